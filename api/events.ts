// GET /api/v1/events: a tenant's owner events as Server-Sent Events (`lead.qualified` today), or
// for a platform-admin token without ?tenantId= the platform's events (backup.failed, ...); resumable with Last-Event-ID (the event's sequence). An event is sent only once every
// transaction that could still commit a smaller sequence has finished (the snapshot's xmin), so a
// client that resumes from an id can never skip an event that committed late.
import type { RequestHandler } from 'express';
import { sql } from 'slonik';
import { z } from 'zod';
import { principalOf, reachableTenant } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import { HttpProblem } from './problem.ts';

const POLL_MS = 500;
const KEEP_ALIVE_MS = 15_000;
const eventRow = z.object({ sequence: z.string(), id: z.uuid(), kind: z.string(), lead_id: z.uuid(), payload: z.record(z.string(), z.unknown()), created_at: z.number() });
const platformEventRow = z.object({ sequence: z.string(), id: z.uuid(), kind: z.string(), payload: z.record(z.string(), z.unknown()), created_at: z.number() });
type StreamEvent = { sequence: string; kind: string; data: Record<string, unknown> };
// Only rows whose transaction is older than every transaction still running.
const committedBefore = sql.fragment`age(xmin) > age((pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text::xid)`;

const streamEvents = (deps: ApiDeps): RequestHandler => async (request, response) => {
  const principal = principalOf(request);
  const named = request.query.tenantId;
  if (named !== undefined && !z.uuid().safeParse(named).success) throw new HttpProblem(400, 'Invalid request', 'tenantId must be a UUID');
  const resumeFrom = request.get('last-event-id') ?? (typeof request.query.lastEventId === 'string' ? request.query.lastEventId : undefined);
  if (resumeFrom !== undefined && !/^\d{1,18}$/.test(resumeFrom)) throw new HttpProblem(400, 'Invalid request', 'Last-Event-ID must be an id this stream sent');
  const requested = (named as string | undefined) ?? principal.tenantId;

  let latest: () => Promise<string>;
  let after: (sequence: string) => Promise<StreamEvent[]>;
  if (requested) {
    const tenantId = reachableTenant(request, requested);
    latest = () => deps.withTenant(tenantId, (tx) => tx.oneFirst(sql.type(z.object({ last: z.string() }))`
      SELECT coalesce(max(sequence), 0)::text AS last FROM lead_events WHERE tenant_id = ${tenantId}`));
    after = async (sequence) => (await deps.withTenant(tenantId, (tx) => tx.any(sql.type(eventRow)`
      SELECT sequence::text, id, kind, lead_id, payload, created_at FROM lead_events
      WHERE tenant_id = ${tenantId} AND sequence > ${sequence}::bigint AND ${committedBefore}
      ORDER BY sequence LIMIT 100`))).map((event) => ({
      sequence: event.sequence, kind: event.kind,
      data: { id: event.id, type: event.kind, tenantId, leadId: event.lead_id, createdAt: new Date(event.created_at).toISOString(), data: event.payload },
    }));
  } else {
    // Platform events (backups, restores, drills, retention) are for platform admins only.
    if (principal.role !== 'platform-admin') throw new HttpProblem(403, 'Forbidden', 'platform events need a platform-admin token');
    latest = () => deps.pools.maintenance.oneFirst(sql.type(z.object({ last: z.string() }))`SELECT coalesce(max(sequence), 0)::text AS last FROM platform_events`);
    after = async (sequence) => (await deps.pools.maintenance.any(sql.type(platformEventRow)`
      SELECT sequence::text, id, kind, payload, created_at FROM platform_events
      WHERE sequence > ${sequence}::bigint AND ${committedBefore} ORDER BY sequence LIMIT 100`)).map((event) => ({
      sequence: event.sequence, kind: event.kind,
      data: { id: event.id, type: event.kind, createdAt: new Date(event.created_at).toISOString(), data: event.payload },
    }));
  }

  let last = resumeFrom ?? await latest();
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  response.write(': connected\n\n');

  let open = true;
  response.on('close', () => { open = false; });
  let quietSince = Date.now();
  while (open) {
    const events = await after(last).catch(() => null);
    if (events === null) break; // the database went away: the client reconnects with its last id
    for (const event of events) {
      response.write(`id: ${event.sequence}\nevent: ${event.kind}\ndata: ${JSON.stringify(event.data)}\n\n`);
      last = event.sequence;
      quietSince = Date.now();
    }
    if (Date.now() - quietSince > KEEP_ALIVE_MS) {
      response.write(': keep-alive\n\n');
      quietSince = Date.now();
    }
    if (events.length < 100) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  response.end();
};

/** The stream, at most API_EVENT_STREAMS_PER_TOKEN open at once per token: each polls the database twice a second. */
export const eventStream = (deps: ApiDeps): RequestHandler => {
  const serve = streamEvents(deps);
  const limit = deps.config.api.eventStreamsPerToken;
  const openByToken = new Map<string, number>();
  return async (request, response, next) => {
    const { tokenId } = principalOf(request);
    const open = openByToken.get(tokenId) ?? 0;
    if (open >= limit) {
      response.set('Retry-After', String(KEEP_ALIVE_MS / 1000));
      throw new HttpProblem(429, 'Too many event streams', `a token may hold ${limit} open event streams; close one first`);
    }
    openByToken.set(tokenId, open + 1);
    response.once('close', () => {
      const left = (openByToken.get(tokenId) ?? 1) - 1;
      if (left > 0) openByToken.set(tokenId, left);
      else openByToken.delete(tokenId);
    });
    await serve(request, response, next);
  };
};
