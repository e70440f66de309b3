// The one Temporal client factory honours the TLS and API-key settings on every kind of connection.
// A bare TCP server stands in for a TLS-only frontend: it records the first bytes each connection
// sends, which show whether the client opened with a TLS ClientHello (and which server name it
// asked for) or with plaintext HTTP/2.
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig, type Env } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';

let server: Server;
let address: string;
const firstBytes: Buffer[] = [];

beforeAll(async () => {
  server = createServer((socket) => {
    socket.once('data', (chunk) => {
      firstBytes.push(chunk);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const temporalConfig = (env: Env) => parseConfig({ TEMPORAL_ADDRESS: address, ...env }).temporal;

/** The first bytes a connection attempt sent (it fails: the stand-in answers nothing). */
const openingOf = async (connect: () => Promise<unknown>): Promise<Buffer> => {
  firstBytes.length = 0;
  await expect(connect()).rejects.toThrow();
  expect(firstBytes.length).toBeGreaterThan(0);
  return firstBytes[0]!;
};

const TLS_HANDSHAKE = 0x16;

describe('Temporal client factory', () => {
  it('opens a client connection with TLS, asking for the configured server name', async () => {
    const opening = await openingOf(() => connectTemporalClient(temporalConfig({ TEMPORAL_TLS_SERVER_NAME: 'temporal.example.test' }), { connectTimeoutMs: 2_000 }));
    expect(opening[0]).toBe(TLS_HANDSHAKE);
    expect(opening.includes('temporal.example.test')).toBe(true);
  }, 20_000);

  it('opens a worker connection with TLS too', async () => {
    const opening = await openingOf(async () => {
      const { connection } = await connectTemporalWorker(temporalConfig({ TEMPORAL_TLS_SERVER_NAME: 'worker.example.test' }));
      await connection.close();
    });
    expect(opening[0]).toBe(TLS_HANDSHAKE);
    expect(opening.includes('worker.example.test')).toBe(true);
  }, 30_000);

  it('turns TLS on for an API key (Temporal Cloud sends keys over TLS only)', async () => {
    const opening = await openingOf(() => connectTemporalClient(temporalConfig({ TEMPORAL_API_KEY: 'key-for-the-test' }), { connectTimeoutMs: 2_000 }));
    expect(opening[0]).toBe(TLS_HANDSHAKE);
  }, 20_000);

  it('speaks plaintext HTTP/2 by default (the local dev server)', async () => {
    const opening = await openingOf(() => connectTemporalClient(temporalConfig({}), { connectTimeoutMs: 2_000 }));
    expect(opening.subarray(0, 14).toString('latin1')).toBe('PRI * HTTP/2.0');
  }, 20_000);

  it('refuses a client certificate without its key', () => {
    expect(() => parseConfig({ TEMPORAL_TLS_CERT_FILE: 'client.pem' })).toThrow(ConfigError);
    expect(() => parseConfig({ TEMPORAL_TLS_CERT_FILE: 'client.pem' })).toThrow(/TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE: set both/);
  });

  it('leaves TLS off when TEMPORAL_TLS=false says so', () => {
    expect(parseConfig({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }).temporal.tls).toBeNull();
    expect(parseConfig({}).temporal).toMatchObject({ tls: null, apiKey: null });
  });
});
