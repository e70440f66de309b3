// A real HTTP server on loopback standing in for a system outside the platform (a tenant's webhook
// receiver, an OpenAI-compatible chat API). It records every request and answers with `respond`.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RecordedRequest = { readonly method: string; readonly path: string; readonly headers: IncomingHttpHeaders; readonly body: string };
export type Responder = (request: RecordedRequest, response: ServerResponse) => void;

export const startHttpRecorder = async (respond: Responder) => {
  const requests: RecordedRequest[] = [];
  let current = respond;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      current(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    respondWith(next: Responder) { current = next; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
};
