// Delivery history of one lead: the sequence steps the SMTP server accepted for the lead's e-mail
// address (the sent-log, email_deliveries), newest first. Read by recipient address: a lead without
// an address has none; the enrolment id on each entry names the sequence enrolment that sent it.
import { sql } from 'slonik';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { keysetPage, olderThan, timeMicros } from './keyset-page.ts';
import { cursorSchema, leadParams } from './schemas.ts';

const delivery = z.object({
  id: z.uuid(), enrollmentId: z.uuid(), step: z.number().int(), messageId: z.string(), recipient: z.string(), smtpResponse: z.string(), sentAt: z.string(),
});
const deliveryRow = z.object({
  id: z.uuid(), enrollment_id: z.uuid(), step: z.number(), message_id: z.string(), recipient: z.string(), smtp_response: z.string(),
  sent_at: z.number(), created_us: z.string(),
});
const toDelivery = (row: z.infer<typeof deliveryRow>) => ({
  id: row.id, enrollmentId: row.enrollment_id, step: row.step, messageId: row.message_id, recipient: row.recipient,
  smtpResponse: row.smtp_response, sentAt: new Date(row.sent_at).toISOString(),
});

export const registerEmailDeliveryRoutes = (registry: Registry, deps: ApiDeps) => {
  registry.add({
    method: 'get', path: '/tenants/:tenantId/leads/:leadId/email-deliveries', summary: 'Sequence mail sent to a lead\'s e-mail address, newest first',
    tag: 'email-sequences', access: 'any', params: leadParams,
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(50), cursor: cursorSchema.optional() }),
    response: z.object({ items: z.array(delivery), nextCursor: z.string().nullable() }),
  }, async ({ params, query }) => {
    const { tenantId, leadId } = params;
    const rows = await deps.withTenant(tenantId, async (tx) => {
      const lead = await tx.maybeOne(sql.type(z.object({ email: z.string().nullable() }))`
        SELECT email FROM leads WHERE tenant_id = ${tenantId} AND id = ${leadId}`);
      if (!lead) throw new HttpProblem(404, 'Not found', 'no such lead');
      if (lead.email === null) return [];
      return tx.any(sql.type(deliveryRow)`
        SELECT id, enrollment_id, step, message_id, recipient, smtp_response, sent_at, ${timeMicros('sent_at')}
          FROM email_deliveries
         WHERE tenant_id = ${tenantId} AND recipient = ${lead.email} ${query.cursor ? sql.fragment`AND ${olderThan(query.cursor, 'sent_at')}` : sql.fragment``}
         ORDER BY sent_at DESC, id DESC LIMIT ${query.limit + 1}`);
    });
    return keysetPage(rows, query.limit, toDelivery);
  });
};
