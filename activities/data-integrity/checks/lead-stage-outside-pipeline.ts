// A lead's stage must be a stage of that lead's pipeline. leads_stage_fk says so, but only while it
// is valid and its triggers fire; this re-checks the rows themselves.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { inScope } from './tenant-filter.ts';

const row = z.object({ leadId: z.uuid(), tenantId: z.uuid(), pipelineId: z.uuid().nullable(), stageId: z.uuid(), stagePipelineId: z.uuid().nullable() });
const fixDetails = z.object({ leadId: z.uuid(), pipelineId: z.uuid(), stageId: z.uuid() });
const target = z.object({ id: z.uuid(), name: z.string(), fromExists: z.boolean() });

export const leadStageOutsidePipeline: IntegrityCheck = {
  name: 'lead-stage-outside-pipeline',
  severity: 'critical',
  description: "A lead whose stage is not a stage of the lead's pipeline (or whose pipeline is unset).",
  platformOnly: false,
  fix: {
    class: 'approval',
    description: "Move the lead to the stage of the same name in its own pipeline, else to its pipeline's first stage, with a stage event saying why.",
    // Without a pipeline there is no board to put the lead on: a person picks one.
    appliesTo: (finding) => finding.details.pipelineId !== null,
    apply: async (tx, finding, logBeforeImage) => {
      const { leadId, pipelineId, stageId } = fixDetails.parse(finding.details);
      // The same name keeps what the stage meant ("Negotiation" in the other board is "Negotiation" here).
      const stage = await tx.maybeOne(sql.type(target)`
        SELECT s.id, s.name, EXISTS (SELECT 1 FROM pipeline_stages f WHERE f.tenant_id = s.tenant_id AND f.id = ${stageId}) AS "fromExists"
          FROM pipeline_stages s
         WHERE s.tenant_id = ${finding.tenantId} AND s.pipeline_id = ${pipelineId}
         ORDER BY s.name = (SELECT o.name FROM pipeline_stages o WHERE o.tenant_id = s.tenant_id AND o.id = ${stageId}) IS TRUE DESC, s.position, s.id
         LIMIT 1`);
      if (stage === null) throw new Error(`pipeline ${pipelineId} of lead ${leadId} has no stage to move it to`);
      await logBeforeImage({ table: 'leads', keyColumn: 'id', key: leadId, operation: 'update', columns: ['stage_id'] });
      await tx.query(sql.unsafe`UPDATE leads SET stage_id = ${stage.id} WHERE tenant_id = ${finding.tenantId} AND id = ${leadId}`);
      const eventId = await tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
        INSERT INTO lead_stage_events (tenant_id, lead_id, from_stage_id, to_stage_id, reason)
        VALUES (${finding.tenantId}, ${leadId}, ${stage.fromExists ? stageId : null}, ${stage.id},
                ${`data integrity: stage ${stageId} is not a stage of pipeline ${pipelineId}; moved to "${stage.name}"`.slice(0, 500)})
        RETURNING id`);
      await logBeforeImage({ table: 'lead_stage_events', keyColumn: 'id', key: eventId, operation: 'insert' });
    },
  },
  find: async (tx, scope) => {
    // The misplaced leads found in a subquery fenced by OFFSET 0, then sorted: ordered by the query
    // itself, Postgres walked every lead in (tenant_id, id) index order, a heap page per lead, and
    // matched each against every stage of its tenant (1.2 s at 1M leads; a hash join: a third of it).
    const rows = await tx.any(sql.type(row)`
      SELECT * FROM (
        SELECT l.id AS "leadId", l.tenant_id AS "tenantId", l.pipeline_id AS "pipelineId", l.stage_id AS "stageId", s.pipeline_id AS "stagePipelineId"
          FROM leads l LEFT JOIN pipeline_stages s ON s.tenant_id = l.tenant_id AND s.id = l.stage_id
         WHERE l.stage_id IS NOT NULL AND s.pipeline_id IS DISTINCT FROM l.pipeline_id AND ${inScope(scope, sql.identifier(['l', 'tenant_id']))}
        OFFSET 0) misplaced
       ORDER BY "tenantId", "leadId" LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
    return rows.map(({ leadId, tenantId, pipelineId, stageId, stagePipelineId }) => ({
      key: `lead:${leadId}`,
      tenantId,
      summary: stagePipelineId === null
        ? `lead ${leadId} is in stage ${stageId}, which does not exist`
        : `lead ${leadId} is in stage ${stageId} of pipeline ${stagePipelineId}, not of its pipeline ${pipelineId ?? '(none)'}`,
      details: { leadId, pipelineId, stageId, stagePipelineId },
    }));
  },
};
