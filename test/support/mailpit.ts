// The tests' view of the stack's mailpit: the mail it received, and its chaos triggers, which make
// it refuse recipients with a given SMTP code (how a test makes a send fail for real).
import { z } from 'zod';
import type { Config } from '../../core/config.ts';
import { mailpitUrl } from '../../stack/mailpit.ts';

const summary = z.object({ ID: z.string(), MessageID: z.string(), Subject: z.string() });
const address = z.object({ Address: z.string() });
const fullMessage = z.object({ From: address, To: z.array(address), Subject: z.string(), Text: z.string(), HTML: z.string() });

export const createMailpit = (config: Config) => {
  const base = mailpitUrl(config);
  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}/api/v1${path}`, init);
    if (!response.ok) throw new Error(`mailpit ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<unknown>;
  };
  return {
    /** Every message mailpit holds for this recipient. */
    messagesTo: async (address: string) => z.object({ messages: z.array(summary) })
      .parse(await call(`/search?query=${encodeURIComponent(`to:"${address}"`)}`)).messages,
    /** One message as mailpit parsed it: sender, recipients, subject and both parts. */
    message: async (id: string) => fullMessage.parse(await call(`/message/${id}`)),
    headersOf: async (id: string) => z.record(z.string(), z.array(z.string())).parse(await call(`/message/${id}/headers`)),
    /** Refuses every recipient (RCPT TO) or sender (MAIL FROM) with `code`, always; null stops refusing. */
    refuse: (stage: 'Recipient' | 'Sender', code: number | null) => call('/chaos', {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ [stage]: { ErrorCode: code ?? 451, Probability: code === null ? 0 : 100 } }),
    }),
    /** Accepts everything again. */
    calm: () => call('/chaos', {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Sender: { ErrorCode: 451, Probability: 0 }, Recipient: { ErrorCode: 451, Probability: 0 } }),
    }),
  };
};
