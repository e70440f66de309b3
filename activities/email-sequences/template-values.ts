// The values a step's templates may name (core/email-sequences/template.ts), read for one lead.
import { sql } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import type { TemplateValues } from '../../core/email-sequences/template.ts';

const valuesRow = z.object({
  name: z.string().nullable(), email: z.string().nullable(), phone: z.string().nullable(), company: z.string().nullable(),
  stage: z.string().nullable(), score: z.number(), bot: z.string(), tenant: z.string(),
});

/** A field the lead has not given renders empty. */
export const templateValuesOf = async (tx: TenantTransaction, tenantId: string, leadId: string): Promise<TemplateValues> => {
  const row = await tx.one(sql.type(valuesRow)`
    SELECT l.name, l.email, l.phone_e164 AS phone, l.company, s.name AS stage, l.score, b.name AS bot, t.name AS tenant
    FROM leads l
      JOIN bots b ON b.tenant_id = l.tenant_id AND b.id = l.bot_id
      JOIN tenants t ON t.id = l.tenant_id
      LEFT JOIN pipeline_stages s ON s.tenant_id = l.tenant_id AND s.id = l.stage_id
    WHERE l.tenant_id = ${tenantId} AND l.id = ${leadId}`);
  return {
    'lead.name': row.name ?? '', 'lead.email': row.email ?? '', 'lead.phone': row.phone ?? '', 'lead.company': row.company ?? '',
    'lead.stage': row.stage ?? '', 'lead.score': String(row.score), 'bot.name': row.bot, 'tenant.name': row.tenant,
  };
};
