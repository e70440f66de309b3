// The catalogue of integrity checks, in the order a run reports them and applies their auto fixes:
// orphaned-rows before foreign-keys-not-valid, so the orphans a key's validation would trip on are
// deleted first in the same run.
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { variables, type Config } from '../../../core/config.ts';
import { applicationRolesBypassRls } from './application-roles-bypass-rls.ts';
import { auditCompleteness } from './audit-completeness.ts';
import { backupAge } from './backup-age.ts';
import { createDerivedLeadScore } from './derived-lead-score.ts';
import { duplicateLeadIdentity } from './duplicate-lead-identity.ts';
import { forbiddenNulls } from './forbidden-nulls.ts';
import { foreignKeysNotValid } from './foreign-keys-not-valid.ts';
import { jsonbDocuments } from './jsonb-documents.ts';
import { leadStageOutsidePipeline } from './lead-stage-outside-pipeline.ts';
import { orphanedRows } from './orphaned-rows.ts';
import { productImageOfAnotherBot } from './product-image-of-another-bot.ts';
import { rowLevelSecurity } from './row-level-security.ts';
import { rowsMissingObjects } from './rows-missing-objects.ts';
import { sessionSnapshotAge } from './session-snapshot-age.ts';
import { strayLeadWorkflows } from './stray-lead-workflows.ts';
import { triggersDisabled } from './triggers-disabled.ts';
import { unclaimedObjects } from './unclaimed-objects.ts';

/** What some checks need to know of the platform's settings: derived-lead-score scores like the ingest. */
export type IntegrityCheckSettings = { readonly scoring: Pick<Config['conversation']['scoring'], 'maxChars'> };

export const integrityChecks = (settings: IntegrityCheckSettings): readonly IntegrityCheck[] => [
  rowLevelSecurity,
  applicationRolesBypassRls,
  triggersDisabled,
  orphanedRows,
  foreignKeysNotValid,
  leadStageOutsidePipeline,
  productImageOfAnotherBot,
  jsonbDocuments,
  duplicateLeadIdentity,
  createDerivedLeadScore(settings.scoring),
  forbiddenNulls,
  auditCompleteness,
  backupAge,
  rowsMissingObjects,
  unclaimedObjects,
  sessionSnapshotAge,
  strayLeadWorkflows,
];

/** The catalogue with the default settings (the worker builds its own from its configuration). */
export const INTEGRITY_CHECKS = integrityChecks({ scoring: { maxChars: Number(variables.SCORING_MAX_CHARS.default) } });
