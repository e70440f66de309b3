// The rules a bot scores its inbound messages with: its active rules, in creation order. Read by the
// ingest (as the application role) and by the integrity check that recomputes stored scores.
import { sql, type CommonQueryMethods } from 'slonik';
import { scoringRuleSchema } from '../../core/scoring/rules.ts';

const ruleRow = scoringRuleSchema.pick({ kind: true, pattern: true, weight: true, tag: true, active: true });

export const readActiveRules = (tx: CommonQueryMethods, tenantId: string, botId: string) => tx.any(sql.type(ruleRow)`
  SELECT kind, pattern, weight, tag, active FROM scoring_rules
  WHERE tenant_id = ${tenantId} AND bot_id = ${botId} AND active ORDER BY created_at, id`);
