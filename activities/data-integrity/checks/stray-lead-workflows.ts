// A lead conversation still running in Temporal for a tenant, bot or lead that no longer exists:
// it holds a worker slot and timers, and its next activity fails on rows that are gone. Only the
// workflow's search attributes are trusted (TenantId and BotId from its start, LeadId once its
// first message was ingested); one without LeadId has not created its lead yet, so only its tenant
// and bot are checked. Workflows started after `settledBefore` may serve rows the snapshot cannot see.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { IntegrityCheck, ListedWorkflow } from '../../../core/data-integrity/check.ts';
import { MAX_FINDINGS_PER_CHECK } from '../../../core/data-integrity/check.ts';

const MISSING = ['tenant', 'bot', 'lead'] as const;
const stray = z.object({ workflowId: z.string(), missing: z.enum(MISSING) });
const details = z.object({
  workflowId: z.string(), runId: z.string(), tenantId: z.uuid(), botId: z.uuid().nullable(), leadId: z.uuid().nullable(), missing: z.enum(MISSING),
});

const isUuid = (value: string | null): value is string => value !== null && z.uuid().safeParse(value).success;

/** The listed workflows whose tenant, bot or lead is missing, as this transaction sees the rows. */
const findStrays = (tx: DatabaseTransactionConnection, workflows: readonly ListedWorkflow[]) => tx.any(sql.type(stray)`
  SELECT "workflowId", missing FROM (
    SELECT w.workflow_id AS "workflowId", CASE
        WHEN NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = w.tenant_id) THEN 'tenant'
        WHEN w.bot_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bots b WHERE b.tenant_id = w.tenant_id AND b.id = w.bot_id) THEN 'bot'
        WHEN w.lead_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.tenant_id = w.tenant_id AND l.id = w.lead_id) THEN 'lead'
      END AS missing
      FROM unnest(${sql.array(workflows.map((w) => w.workflowId), 'text')}, ${sql.array(workflows.map((w) => w.tenantId), 'uuid')},
                  ${sql.array(workflows.map((w) => (isUuid(w.botId) ? w.botId : null)), 'uuid')},
                  ${sql.array(workflows.map((w) => (isUuid(w.leadId) ? w.leadId : null)), 'uuid')}) AS w (workflow_id, tenant_id, bot_id, lead_id)
  ) judged WHERE missing IS NOT NULL ORDER BY "workflowId" LIMIT ${MAX_FINDINGS_PER_CHECK + 1}`);

export const strayLeadWorkflows: IntegrityCheck = {
  name: 'stray-lead-workflows',
  severity: 'warning',
  description: 'A lead conversation workflow still running for a tenant, bot or lead that no longer exists.',
  platformOnly: false,
  needs: ['workflows'],
  fix: {
    class: 'approval',
    description: 'Terminate that run, with a reason naming the fix. Cannot be undone: the lead\'s next message would start a new run.',
    appliesTo: () => true,
    apply: async (tx, finding, _logBeforeImage, effects) => {
      const workflow = details.parse(finding.details);
      // Approved perhaps hours later: the rows may be back (an undone merge, a restore).
      const still = await findStrays(tx, [{ ...workflow, startTime: new Date(0) }]);
      if (still.length === 0) throw new Error(`the ${workflow.missing} of workflow ${workflow.workflowId} exists again: left running`);
      await effects.terminateWorkflow(workflow, `its ${still[0]!.missing} no longer exists`);
    },
  },
  find: async (tx, _scope, { workflows, settledBefore }) => {
    const settled = workflows.filter((workflow) => isUuid(workflow.tenantId) && workflow.startTime <= settledBefore);
    const byId = new Map(settled.map((workflow) => [workflow.workflowId, workflow]));
    return (await findStrays(tx, settled)).map(({ workflowId, missing }) => {
      const { runId, tenantId, botId, leadId, startTime } = byId.get(workflowId)!;
      const missingId = { tenant: tenantId, bot: botId, lead: leadId }[missing];
      return {
        key: `workflow:${workflowId}`,
        tenantId,
        summary: `lead workflow ${workflowId} still runs, but its ${missing} ${missingId} no longer exists`,
        details: { workflowId, runId, tenantId, botId, leadId, missing, startTime: startTime.toISOString() },
      };
    });
  },
};
