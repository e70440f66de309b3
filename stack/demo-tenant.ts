// The start command's demo tenant: one bot on the simulated WhatsApp network, with scoring rules,
// a product and a sales pipeline, so a fresh `npm start` answers a simulated user end to end.
// Created once; a second start finds it and changes nothing.
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../core/db/with-tenant.ts';

export const DEMO_TENANT_ID = '0000d3e0-0000-4000-8000-000000000001';
export const DEMO_BOT_ID = '0000d3e0-0000-4000-8000-000000000002';

/**
 * What `npm start` suggests a simulated user send: it scores 90 (price, team size, intent), so the
 * lead qualifies, and it states a name and an address, so the demo sequence mails it at once.
 */
export const DEMO_MESSAGE = 'Olá, meu nome é Ana! Qual o preço do Plano Pro para 20 usuários? quero comprar. Meu e-mail é ana@example.com';

export const ensureDemoTenant = (withTenant: WithTenant): Promise<boolean> => withTenant(DEMO_TENANT_ID, async (tx) => {
  const created = await tx.maybeOneFirst(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO tenants (id, name, slug, settings) VALUES (${DEMO_TENANT_ID}, 'Demo', 'demo', '{"retentionDays": 90}')
    ON CONFLICT (id) DO NOTHING RETURNING id`);
  if (!created) return false;
  await tx.query(sql.unsafe`INSERT INTO bots (id, tenant_id, name, phone_e164) VALUES (${DEMO_BOT_ID}, ${DEMO_TENANT_ID}, 'Demo bot', '+5511900000000')`);
  const rules: [string, string, number, string][] = [
    ['keyword', 'preço', 20, 'pricing'], ['keyword', 'price', 20, 'pricing'], ['phrase', 'quero comprar', 40, 'intent'],
    ['regex', '\\d+ (usuários|users)', 30, 'size'],
  ];
  for (const [kind, pattern, weight, tag] of rules) {
    await tx.query(sql.unsafe`INSERT INTO scoring_rules (tenant_id, bot_id, kind, pattern, weight, tag)
      VALUES (${DEMO_TENANT_ID}, ${DEMO_BOT_ID}, ${kind}, ${pattern}, ${weight}, ${tag})`);
  }
  await tx.query(sql.unsafe`INSERT INTO products (tenant_id, bot_id, sku, name, price) VALUES (${DEMO_TENANT_ID}, ${DEMO_BOT_ID}, 'PRO', 'Plano Pro', 199.00)`);
  const pipelineId = await tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO pipelines (tenant_id, name, is_default) VALUES (${DEMO_TENANT_ID}, 'Vendas', true) RETURNING id`);
  await tx.query(sql.unsafe`INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position) VALUES (${DEMO_TENANT_ID}, ${pipelineId}, 'Novo', 0)`);
  await tx.query(sql.unsafe`INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position, is_qualified_stage)
    VALUES (${DEMO_TENANT_ID}, ${pipelineId}, 'Qualificado', 1, true)`);
  return true;
}, { actor: 'npm-start' });
