// A lead's stage must be a stage of that lead's pipeline. leads_stage_fk says so, but only while it
// is valid and its triggers fire; this re-checks the rows themselves.
import { sql } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';
import { inScope } from './tenant-filter.ts';

const row = z.object({ leadId: z.uuid(), tenantId: z.uuid(), pipelineId: z.uuid().nullable(), stageId: z.uuid(), stagePipelineId: z.uuid().nullable() });

export const leadStageOutsidePipeline: IntegrityCheck = {
  name: 'lead-stage-outside-pipeline',
  severity: 'critical',
  description: "A lead whose stage is not a stage of the lead's pipeline (or whose pipeline is unset).",
  platformOnly: false,
  find: async (tx, scope) => {
    const rows = await tx.any(sql.type(row)`
      SELECT l.id AS "leadId", l.tenant_id AS "tenantId", l.pipeline_id AS "pipelineId", l.stage_id AS "stageId", s.pipeline_id AS "stagePipelineId"
        FROM leads l LEFT JOIN pipeline_stages s ON s.tenant_id = l.tenant_id AND s.id = l.stage_id
       WHERE l.stage_id IS NOT NULL AND s.pipeline_id IS DISTINCT FROM l.pipeline_id AND ${inScope(scope, sql.identifier(['l', 'tenant_id']))}
       ORDER BY l.tenant_id, l.id LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);
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
