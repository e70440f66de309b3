// The optional chat composer: an OpenAI-compatible `/chat/completions` endpoint writes the reply,
// grounded in the template reply, the matched products and the recent conversation. It has a
// deadline; on a timeout, an error or an unusable answer the lead gets the template reply.
import { sql } from 'slonik';
import { z } from 'zod';
import type { Config } from '../../core/config.ts';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import { describeProducts } from '../../core/lead-conversation/replies.ts';
import type { ComposedReply, ComposeReplyInput } from '../../core/temporal/lead-conversation.ts';

type ChatComposerConfig = NonNullable<Config['conversation']['chatComposer']>;

const HISTORY_MESSAGES = 10;
const MAX_REPLY_LENGTH = 4_000;

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
});
const historyRow = z.object({ direction: z.enum(['inbound', 'outbound']), body: z.string() });

const instructions = (input: ComposeReplyInput, botName: string): string => [
  `You are ${botName}, a sales assistant answering on WhatsApp. Reply in the customer's language, in at most three short sentences.`,
  'Never invent prices or products: mention only those listed here.',
  input.ingest.catalogMatches.length > 0 ? `Products the customer mentioned: ${describeProducts(input.ingest.catalogMatches)}.` : '',
  input.ingest.missingFields[0] ? `Politely ask for the customer's ${input.ingest.missingFields[0]}.` : '',
  input.ingest.becameQualified ? 'Tell the customer a consultant will contact them soon.' : '',
  `A correct default reply would be: "${input.ingest.templateReply}"`,
].filter(Boolean).join('\n');

export const createChatComposerActivities = (deps: { withTenant: WithTenant; chatComposer: ChatComposerConfig | null; log: (message: string) => void }) => ({
  async composeChatReply(input: ComposeReplyInput): Promise<ComposedReply> {
    const fallback: ComposedReply = { text: input.ingest.templateReply, source: 'template' };
    const composer = deps.chatComposer;
    if (!composer) return fallback;
    const { botName, history } = await deps.withTenant(input.tenantId, async (tx) => ({
      botName: await tx.oneFirst(sql.type(z.object({ name: z.string() }))`SELECT name FROM bots WHERE tenant_id = ${input.tenantId} AND id = ${input.botId}`),
      history: [...await tx.any(sql.type(historyRow)`
        SELECT direction, body FROM (
          SELECT direction, body, created_at, id FROM lead_messages
          WHERE tenant_id = ${input.tenantId} AND lead_id = ${input.leadId}
          ORDER BY created_at DESC, id DESC LIMIT ${HISTORY_MESSAGES}) recent
        ORDER BY created_at, id`)],
    }));
    try {
      const response = await fetch(new URL('chat/completions', composer.url.endsWith('/') ? composer.url : `${composer.url}/`), {
        method: 'POST',
        signal: AbortSignal.timeout(composer.timeoutMs),
        headers: { 'content-type': 'application/json', ...(composer.apiKey ? { authorization: `Bearer ${composer.apiKey}` } : {}) },
        body: JSON.stringify({
          model: composer.model,
          messages: [
            { role: 'system', content: instructions(input, botName) },
            ...history.map((message) => ({ role: message.direction === 'inbound' ? 'user' : 'assistant', content: message.body })),
          ],
        }),
      });
      if (!response.ok) throw new Error(`chat API answered ${response.status}`);
      const text = completionSchema.parse(await response.json()).choices[0]!.message.content?.trim() ?? '';
      if (text.length === 0 || text.length > MAX_REPLY_LENGTH) throw new Error(`chat API reply has an unusable length (${text.length})`);
      return { text, source: 'chat' };
    } catch (error) {
      deps.log(`chat composer failed, template reply sent instead: ${error instanceof Error ? error.message : String(error)}`);
      return fallback;
    }
  },
});

export type ChatComposerActivities = ReturnType<typeof createChatComposerActivities>;
