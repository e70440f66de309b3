// JSON documents are validated by zod where they are written, but the database's CHECKs cover only
// part of each schema: a row written around the API (a restore, a manual fix) can hold a document the
// platform rejects. Tenant settings, schedule actions and bot feature options, each against its schema.
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { MAX_FINDINGS_PER_CHECK, type Finding, type IntegrityCheck, type IntegrityScope } from '../../../core/data-integrity/check.ts';
import { repairDocument } from '../../../core/data-integrity/repair-document.ts';
import { botFeatureConfigSchema } from '../../../core/bot-features.ts';
import { scheduleActionSchema } from '../../../core/schedules/action.ts';
import { tenantSettingsSchema } from '../../../core/tenant-settings.ts';
import { inScope } from './tenant-filter.ts';

type DocumentRow = { readonly id: string; readonly tenantId: string; readonly botId: string | null; readonly label: string; readonly document: unknown };
const documentRow = z.object({ id: z.uuid(), tenantId: z.uuid(), botId: z.uuid().nullable(), label: z.string(), document: z.unknown() });

type DocumentKind = {
  /** `table.column`, named in every finding's details. */
  readonly name: string;
  readonly keyPrefix: string;
  readonly schema: z.ZodType;
  /** Whether a finding carries a repaired document to approve (tenant settings only). */
  readonly repairable: boolean;
  readonly rows: (tx: DatabaseTransactionConnection, scope: IntegrityScope) => Promise<readonly DocumentRow[]>;
};

const KINDS: readonly DocumentKind[] = [
  {
    name: 'tenants.settings', keyPrefix: 'tenant', schema: tenantSettingsSchema, repairable: true,
    rows: (tx, scope) => tx.any(sql.type(documentRow)`
      SELECT id, id AS "tenantId", NULL::uuid AS "botId", 'tenant ' || id AS label, settings AS document
        FROM tenants WHERE ${inScope(scope, sql.identifier(['id']))} ORDER BY id`),
  },
  {
    name: 'schedules.action', keyPrefix: 'schedule', schema: scheduleActionSchema, repairable: false,
    rows: (tx, scope) => tx.any(sql.type(documentRow)`
      SELECT id, tenant_id AS "tenantId", bot_id AS "botId", 'schedule ' || id AS label, action AS document
        FROM schedules WHERE ${inScope(scope, sql.identifier(['tenant_id']))} ORDER BY tenant_id, id`),
  },
  {
    name: 'bot_features.config', keyPrefix: 'bot-feature', schema: botFeatureConfigSchema, repairable: false,
    rows: (tx, scope) => tx.any(sql.type(documentRow)`
      SELECT id, tenant_id AS "tenantId", bot_id AS "botId", 'bot feature ' || feature || ' ' || id AS label, config AS document
        FROM bot_features WHERE ${inScope(scope, sql.identifier(['tenant_id']))} ORDER BY tenant_id, id`),
  },
];

const describeIssues = (issues: readonly { path: string; message: string }[]) =>
  issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');

const invalidDocuments = async (tx: DatabaseTransactionConnection, scope: IntegrityScope, kind: DocumentKind): Promise<Finding[]> =>
  (await kind.rows(tx, scope)).flatMap((row) => {
    const parsed = kind.schema.safeParse(row.document);
    if (parsed.success) return [];
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    // A person approves exactly this: the `repaired` document replacing the `stored` one.
    const repair = kind.repairable ? repairDocument(kind.schema, row.document) : null;
    return [{
      key: `${kind.keyPrefix}:${row.id}`,
      tenantId: row.tenantId,
      summary: `${kind.name} of ${row.label} fails its schema: ${describeIssues(issues)}`.slice(0, 1000),
      details: {
        document: kind.name, id: row.id, ...(row.botId === null ? {} : { botId: row.botId }), issues,
        ...(repair === null ? {} : { stored: row.document, repaired: repair.repaired, removed: repair.removed }),
      },
    }];
  });

const settingsRepair = z.object({ document: z.literal('tenants.settings'), id: z.uuid(), stored: z.unknown(), repaired: z.record(z.string(), z.unknown()) });

export class DocumentChangedError extends Error {
  override name = 'DocumentChangedError';
}

export const jsonbDocuments: IntegrityCheck = {
  name: 'jsonb-documents',
  severity: 'warning',
  description: 'A JSON document (tenant settings, schedule action, bot feature options) that fails the schema the platform enforces on write.',
  platformOnly: false,
  fix: {
    class: 'approval',
    description: "Replace the tenant's settings with the finding's `repaired` document: unknown keys dropped, invalid values removed so their defaults apply (`removed` lists them). Not applied if the settings changed since.",
    appliesTo: (finding) => settingsRepair.safeParse(finding.details).success,
    apply: async (tx, finding, logBeforeImage) => {
      const { id, stored, repaired } = settingsRepair.parse(finding.details);
      await logBeforeImage({ table: 'tenants', keyColumn: 'id', key: id, operation: 'update', columns: ['settings'] });
      const changed = await tx.maybeOne(sql.unsafe`
        UPDATE tenants SET settings = ${sql.jsonb(JSON.parse(JSON.stringify(repaired)))}
         WHERE id = ${id} AND settings = ${sql.jsonb(JSON.parse(JSON.stringify(stored)))} RETURNING id`);
      if (changed === null) throw new DocumentChangedError(`tenant ${id} settings changed since they were found invalid: not replaced (the next run plans a fix for what is stored now)`);
    },
  },
  find: async (tx, scope) => {
    const findings: Finding[] = [];
    for (const kind of KINDS) {
      if (findings.length > MAX_FINDINGS_PER_CHECK) break;
      findings.push(...await invalidDocuments(tx, scope, kind));
    }
    return findings.slice(0, MAX_FINDINGS_PER_CHECK + 1);
  },
};
