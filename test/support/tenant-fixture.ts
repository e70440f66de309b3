// A complete graph of rows for one tenant, written through withTenant as the application role (its
// API tokens, which that role cannot write, come from issueToken with the token role's pool).
import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../../core/db/with-tenant.ts';

const id = z.object({ id: z.uuid() });

export type TenantGraph = {
  tenantId: string; userId: string; botId: string; imageId: string; productId: string; ruleId: string;
  pipelineId: string; stageIds: [string, string]; leadId: string; waId: string; sku: string; email: string;
};

export const seedTenant = async (withTenant: WithTenant): Promise<TenantGraph> => {
  const tenantId = randomUUID();
  const suffix = tenantId.slice(0, 8);
  const waId = `55119${Math.floor(Math.random() * 1e8)}`;
  const sku = 'SKU-1';
  const email = 'owner@example.com';
  return withTenant(tenantId, async (tx) => {
    await tx.query(sql.unsafe`INSERT INTO tenants (id, name, slug, settings) VALUES (${tenantId}, 'Tenant', ${`tenant-${suffix}`}, '{"retentionDays": 90}')`);
    const userId = await tx.oneFirst(sql.type(id)`INSERT INTO users (tenant_id, email, role) VALUES (${tenantId}, ${email}, 'owner') RETURNING id`);
    const botId = await tx.oneFirst(sql.type(id)`INSERT INTO bots (tenant_id, name, phone_e164) VALUES (${tenantId}, 'Bot', '+5511999990000') RETURNING id`);
    await tx.query(sql.unsafe`INSERT INTO bot_features (tenant_id, bot_id, feature) VALUES (${tenantId}, ${botId}, 'catalog')`);
    await tx.query(sql.unsafe`
      INSERT INTO bot_session_events (id, tenant_id, bot_id, kind, reason, occurred_at) VALUES (${randomUUID()}, ${tenantId}, ${botId}, 'open', 'fixture', '2026-01-01T00:00:00Z')`);
    const imageId = await tx.oneFirst(sql.type(id)`
      INSERT INTO bot_images (tenant_id, bot_id, object_key, content_type, size_bytes)
      VALUES (${tenantId}, ${botId}, ${`tenants/${tenantId}/images/a.png`}, 'image/png', 1024) RETURNING id`);
    const productId = await tx.oneFirst(sql.type(id)`
      INSERT INTO products (tenant_id, bot_id, sku, name, price, image_id)
      VALUES (${tenantId}, ${botId}, ${sku}, 'Plan', 99.90, ${imageId}) RETURNING id`);
    const ruleId = await tx.oneFirst(sql.type(id)`
      INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight, tag)
      VALUES (${tenantId}, ${botId}, 'keyword', 'price', 10, 'pricing') RETURNING id`);
    const pipelineId = await tx.oneFirst(sql.type(id)`INSERT INTO pipelines (tenant_id, name, is_default) VALUES (${tenantId}, 'Sales', true) RETURNING id`);
    const stageNew = await tx.oneFirst(sql.type(id)`INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position) VALUES (${tenantId}, ${pipelineId}, 'New', 0) RETURNING id`);
    const stageQualified = await tx.oneFirst(sql.type(id)`
      INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position, is_qualified_stage) VALUES (${tenantId}, ${pipelineId}, 'Qualified', 1, true) RETURNING id`);
    const leadId = await tx.oneFirst(sql.type(id)`
      INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, email, owner_user_id, assigned_to_user_id, pipeline_id, stage_id, score)
      VALUES (${tenantId}, ${botId}, ${waId}, ${`+${waId}`}, 'lead@example.com', ${userId}, ${userId}, ${pipelineId}, ${stageNew}, 10) RETURNING id`);
    await tx.query(sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body)
      VALUES (${tenantId}, ${botId}, ${leadId}, 'inbound', 'WAMID-1', 'what is the price?')`);
    await tx.query(sql.unsafe`
      INSERT INTO lead_image_sends (tenant_id, bot_id, lead_id, image_id, sent_on, wa_message_id)
      VALUES (${tenantId}, ${botId}, ${leadId}, ${imageId}, current_date, 'WAMID-1')`);
    await tx.query(sql.unsafe`
      INSERT INTO lead_stage_events (tenant_id, lead_id, from_stage_id, to_stage_id, reason)
      VALUES (${tenantId}, ${leadId}, NULL, ${stageNew}, 'created')`);
    await tx.query(sql.unsafe`
      INSERT INTO schedules (tenant_id, bot_id, created_by_user_id, name, cron, action)
      VALUES (${tenantId}, ${botId}, ${userId}, 'Follow-up', '0 9 * * 1', '{"type": "follow_up"}')`);
    await tx.query(sql.unsafe`
      INSERT INTO schedule_follow_ups (tenant_id, schedule_id, firing_id, bot_id, lead_id, status, wa_message_id)
      SELECT ${tenantId}, id, ${`schedule-run/${tenantId}/${randomUUID()}-fixture`}, ${botId}, ${leadId}, 'sent', 'WAMID-FOLLOW-UP-1'
        FROM schedules WHERE tenant_id = ${tenantId}`);
    await tx.query(sql.unsafe`INSERT INTO lead_events (tenant_id, lead_id, kind) VALUES (${tenantId}, ${leadId}, 'lead.qualified')`);
    await tx.query(sql.unsafe`
      INSERT INTO lead_identity_pairings (tenant_id, bot_id, phone_e164, lid) VALUES (${tenantId}, ${botId}, ${`+${waId}`}, '700000001')`);
    await tx.query(sql.unsafe`
      INSERT INTO owner_webhooks (tenant_id, url, secret, active) VALUES (${tenantId}, 'https://example.com/hooks/leads', ${'s'.repeat(32)}, false)`);
    await tx.query(sql.unsafe`
      INSERT INTO owner_webhook_deliveries (tenant_id, webhook_id, event_id, event_type, attempt, status_code, latency_ms, outcome)
      SELECT tenant_id, id, gen_random_uuid(), 'lead.qualified', 1, 204, 12, 'delivered' FROM owner_webhooks WHERE tenant_id = ${tenantId}`);
    await tx.query(sql.unsafe`INSERT INTO audit_logs (tenant_id, actor, action) VALUES (${tenantId}, 'test', 'tenant.seeded')`);
    await tx.query(sql.unsafe`
      INSERT INTO dead_letters (tenant_id, bot_id, wa_message_id, message, reason)
      VALUES (${tenantId}, ${botId}, 'WAMID-DEAD-1', ${sql.jsonb({ tenantId, botId, waId, waMessageId: 'WAMID-DEAD-1', text: 'lost?', receivedAt: '2026-01-01T00:00:00.000Z' })},
              'ConstraintViolationError: fixture')`);
    const sequenceId = await tx.oneFirst(sql.type(id)`
      INSERT INTO email_sequences (tenant_id, name, stop_stage_id) VALUES (${tenantId}, 'Welcome', ${stageQualified}) RETURNING id`);
    await tx.query(sql.unsafe`
      INSERT INTO email_sequence_steps (tenant_id, sequence_id, position, delay_seconds, subject, text_template, html_template)
      VALUES (${tenantId}, ${sequenceId}, 0, 0, 'Hello', 'Hello {{lead.name}}', '<p>Hello {{lead.name}}</p>')`);
    const enrollmentId = await tx.oneFirst(sql.type(id)`
      INSERT INTO email_enrollments (tenant_id, sequence_id, lead_id, address, source)
      VALUES (${tenantId}, ${sequenceId}, ${leadId}, 'lead@example.com', 'api') RETURNING id`);
    await tx.query(sql.unsafe`
      INSERT INTO email_deliveries (tenant_id, enrollment_id, step, message_id, recipient, smtp_response)
      VALUES (${tenantId}, ${enrollmentId}, 0, '<fixture@botinteligente.local>', 'lead@example.com', '250 OK')`);
    await tx.query(sql.unsafe`
      INSERT INTO email_suppressions (tenant_id, address, reason, detail) VALUES (${tenantId}, 'bounced@example.com', 'bounced', '550 fixture')`);
    await tx.query(sql.unsafe`
      INSERT INTO data_subject_erasures (id, tenant_id, subject_hash, salt, status, counts, requested_by, completed_at)
      VALUES (${randomUUID()}, ${tenantId}, ${'0'.repeat(64)}, ${'0'.repeat(32)}, 'completed', '{"leads": 0}', 'test-fixture', now())`);
    return { tenantId, userId, botId, imageId, productId, ruleId, pipelineId, stageIds: [stageNew, stageQualified], leadId, waId, sku, email };
  }, { actor: 'test-fixture' });
};
