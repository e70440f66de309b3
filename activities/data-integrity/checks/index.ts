// The catalogue of integrity checks, in the order a run reports them.
import type { IntegrityCheck } from '../../../core/data-integrity/check.ts';
import { applicationRolesBypassRls } from './application-roles-bypass-rls.ts';
import { auditCompleteness } from './audit-completeness.ts';
import { backupAge } from './backup-age.ts';
import { duplicateLeadIdentity } from './duplicate-lead-identity.ts';
import { forbiddenNulls } from './forbidden-nulls.ts';
import { foreignKeysNotValid } from './foreign-keys-not-valid.ts';
import { leadStageOutsidePipeline } from './lead-stage-outside-pipeline.ts';
import { orphanedRows } from './orphaned-rows.ts';
import { productImageOfAnotherBot } from './product-image-of-another-bot.ts';
import { rowLevelSecurity } from './row-level-security.ts';
import { rowsMissingObjects } from './rows-missing-objects.ts';
import { sessionSnapshotAge } from './session-snapshot-age.ts';
import { strayLeadWorkflows } from './stray-lead-workflows.ts';
import { tenantSettingsInvalid } from './tenant-settings-schema.ts';
import { triggersDisabled } from './triggers-disabled.ts';
import { unclaimedObjects } from './unclaimed-objects.ts';

export const INTEGRITY_CHECKS: readonly IntegrityCheck[] = [
  rowLevelSecurity,
  applicationRolesBypassRls,
  foreignKeysNotValid,
  triggersDisabled,
  orphanedRows,
  leadStageOutsidePipeline,
  productImageOfAnotherBot,
  tenantSettingsInvalid,
  duplicateLeadIdentity,
  forbiddenNulls,
  auditCompleteness,
  backupAge,
  rowsMissingObjects,
  unclaimedObjects,
  sessionSnapshotAge,
  strayLeadWorkflows,
];
