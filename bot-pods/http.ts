// The pod's HTTP port: Kubernetes probes, and with the simulator transport the simulated
// WhatsApp network (inject an inbound message, list what a bot sent).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { proto } from '@whiskeysockets/baileys';
import { z } from 'zod';
import { JournalWriteError } from './journal.ts';
import type { SimulatorTransport } from './simulator-transport.ts';

const MAX_BODY_BYTES = 256 * 1024;

/** The parts of Baileys' proto.IWebMessageInfo the pod reads; the rest passes through untouched. */
const webMessageInfo = z.looseObject({
  key: z.looseObject({
    remoteJid: z.string().min(3).max(200),
    id: z.string().min(1).max(128),
    fromMe: z.boolean().optional(),
    participant: z.string().max(200).nullish(),
    remoteJidAlt: z.string().max(200).nullish(),
    participantAlt: z.string().max(200).nullish(),
  }),
  message: z.record(z.string(), z.unknown()).nullish(),
  messageTimestamp: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,12}$/)]).optional(),
  pushName: z.string().max(200).nullish(),
});

const send = (response: ServerResponse, status: number, body: unknown, type = 'application/json') => {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
};
const problem = (response: ServerResponse, status: number, title: string, detail: string, headers: Record<string, string> = {}) => {
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  send(response, status, { type: 'about:blank', title, status, detail }, 'application/problem+json');
};

const readJson = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError(`body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

export const startPodHttp = async (options: {
  host: string; port: number; isReady: () => boolean; readiness: () => unknown;
  simulators: ReadonlyMap<string, SimulatorTransport> | null;
}): Promise<Server> => {
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => problem(response, 500, 'Internal error', String(error)));
  });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://pod').pathname;
    if (request.method === 'GET' && path === '/health/live') return send(response, 200, { status: 'live' });
    if (request.method === 'GET' && path === '/health/ready') return send(response, options.isReady() ? 200 : 503, options.readiness());
    const match = /^\/simulator\/bots\/([0-9a-f-]{36})\/(inbound|sent)$/.exec(path);
    if (!options.simulators || !match) return problem(response, 404, 'Not found', `no route ${request.method} ${path}`);
    const simulator = options.simulators.get(match[1]!);
    if (!simulator) return problem(response, 404, 'Unknown bot', `bot ${match[1]} is not active on this pod`);
    if (match[2] === 'sent' && request.method === 'GET') return send(response, 200, simulator.sent());
    if (match[2] === 'inbound' && request.method === 'POST') {
      let body: unknown;
      try {
        body = await readJson(request);
      } catch (error) {
        return problem(response, error instanceof RangeError ? 413 : 400, 'Unreadable body', String(error));
      }
      const parsed = webMessageInfo.safeParse(body);
      if (!parsed.success) return problem(response, 422, 'Not a WebMessageInfo', z.prettifyError(parsed.error));
      try {
        await simulator.inject(parsed.data as proto.IWebMessageInfo);
      } catch (error) {
        // Not taken, so not acknowledged: the sender keeps it and sends it again.
        if (error instanceof JournalWriteError) return problem(response, 503, 'Volume cannot persist', error.message, { 'retry-after': '5' });
        return problem(response, 409, 'Bot not connected', String(error));
      }
      return send(response, 202, { accepted: parsed.data.key.id });
    }
    return problem(response, 405, 'Method not allowed', `${request.method} ${path}`);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return server;
};
