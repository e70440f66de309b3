// The demo tenant's email sequence, named by its bot: the demo message (DEMO_MESSAGE) qualifies its
// lead and gives an address, so the sequence's first mail lands in mailpit right after it. Created
// once, also in a stack whose demo tenant predates email sequences; a second start changes nothing.
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../core/db/with-tenant.ts';
import { DEMO_BOT_ID, DEMO_TENANT_ID } from './demo-tenant.ts';

const DEMO_SEQUENCE_NAME = 'Boas-vindas';
const DAY = 86_400;
const STEPS = [
  { delaySeconds: 0, subject: '{{tenant.name}}: obrigado pelo interesse, {{lead.name}}',
    text: 'Olá {{lead.name}},\n\nobrigado por falar com o {{bot.name}}. Em breve enviamos a proposta do Plano Pro.\n\n{{tenant.name}}',
    html: '<p>Olá {{lead.name}},</p><p>obrigado por falar com o {{bot.name}}. Em breve enviamos a proposta do Plano Pro.</p><p>{{tenant.name}}</p>' },
  { delaySeconds: 2 * DAY, subject: '{{lead.name}}, ficou alguma dúvida?',
    text: 'Olá {{lead.name}}, ficou alguma dúvida sobre o Plano Pro? Responda no WhatsApp.', html: '<p>Olá {{lead.name}}, ficou alguma dúvida sobre o Plano Pro? Responda no WhatsApp.</p>' },
  { delaySeconds: 5 * DAY, subject: 'Última chamada: Plano Pro',
    text: 'Olá {{lead.name}}, a condição especial do Plano Pro termina hoje.', html: '<p>Olá {{lead.name}}, a condição especial do Plano Pro termina hoje.</p>' },
];

/** True when it created the sequence now. */
export const ensureDemoEmailSequence = (withTenant: WithTenant): Promise<boolean> => withTenant(DEMO_TENANT_ID, async (tx) => {
  const sequenceId = await tx.maybeOneFirst(sql.type(z.object({ id: z.uuid() }))`
    INSERT INTO email_sequences (tenant_id, name) VALUES (${DEMO_TENANT_ID}, ${DEMO_SEQUENCE_NAME})
    ON CONFLICT ON CONSTRAINT email_sequences_name_unique DO NOTHING RETURNING id`);
  if (!sequenceId) return false;
  for (const [position, step] of STEPS.entries()) {
    await tx.query(sql.unsafe`
      INSERT INTO email_sequence_steps (tenant_id, sequence_id, position, delay_seconds, subject, text_template, html_template)
      VALUES (${DEMO_TENANT_ID}, ${sequenceId}, ${position}, ${step.delaySeconds}, ${step.subject}, ${step.text}, ${step.html})`);
  }
  await tx.query(sql.unsafe`UPDATE bots SET email_sequence_id = ${sequenceId} WHERE tenant_id = ${DEMO_TENANT_ID} AND id = ${DEMO_BOT_ID}`);
  return true;
}, { actor: 'npm-start' });
