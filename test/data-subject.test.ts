// Data-subject rights on real Postgres, Temporal and S3. One person (a Brazilian mobile, seen as a
// phone lead, an @lid lead and an old eight-digit lead, with an e-mail address) in tenant A, and
// the same phone in tenant B: the export (API) holds every row about them that a search of every
// table finds; the erasure (API -> workflow data-subject-erasure/<tenantId>/<requestId>) leaves no
// row of theirs in any table and no object of theirs under tenant A's prefix, redacts the audit and
// integrity records, keeps the request without the personal data, and is idempotent; tenant B's
// person and tenant A's other lead are untouched; another tenant's token finds nothing.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createDataSubjectActivities } from '../activities/data-subject/index.ts';
import { deleteObjectKeys } from '../core/delete-objects.ts';
import { createApp } from '../api/app.ts';
import { issueToken } from '../api/token-store.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { HOLDING_TABLES } from '../core/data-subject/holdings.ts';
import { createDatabasePools, createTokenAdminPool, type DatabasePools } from '../core/db/pools.ts';
import { createWithTenant, type WithTenant } from '../core/db/with-tenant.ts';
import { messageMediaKey, tenantPrefix } from '../core/object-keys.ts';
import { createObjectStoreClient } from '../core/object-store.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import { dataSubjectErasureWorkflowId } from '../core/temporal/data-subject.ts';
import type { dataSubjectErasure } from '../workflows/data-subject.ts';
import { seedTenant, type TenantGraph } from './support/tenant-fixture.ts';

const base = loadConfig();
const TASK_QUEUE = `data-subject-test-${randomUUID().slice(0, 8)}`;
const config: Config = { ...base, temporal: { ...base.temporal, taskQueue: TASK_QUEUE } };
const bucket = base.s3.bucket;

// The person: one line, written three ways by WhatsApp over time.
const PHONE = '+5511987650042'; // not the demo lead's number, which another test's demo conversation stores
const OLD_PHONE = '+551187650042'; // the same mobile before the ninth digit
// Digits a float never prints: '900000000000001' matched the restore time 0.6900000000000001 in another test's event.
const LID = '271828182845904';
const EMAIL = 'maria.subject@example.com';
const NAME = 'Maria Subject';
const BODY = 'my private question about the price';
/** Strings that are the person's data: none may be left in tenant A after the erasure. */
const NEEDLES = [PHONE, PHONE.slice(1), OLD_PHONE, OLD_PHONE.slice(1), LID, EMAIL, NAME, BODY];

const s3 = createObjectStoreClient(base.s3);
let pools: DatabasePools;
let tokenPool: DatabasePool;
let withTenant: WithTenant;
let tenantA: TenantGraph;
let tenantB: TenantGraph;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let closeWorkerConnection: () => Promise<void>;
let api: ReturnType<typeof createApp>;
let baseUrl: string;
let tokenA: string;
let tokenB: string;
const personLeads = new Map<string, string[]>();
const uploaded: string[] = [];

const id = z.object({ id: z.uuid() });

const upload = async (key: string) => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `media ${key}` }));
  uploaded.push(key);
  return key;
};

/** The person's leads, messages (two with media), history, identity pairing, dead letter, e-mail enrolment and rows, and audit mentions. */
const seedPerson = async (tenant: TenantGraph) => {
  const { tenantId, botId } = tenant;
  const media = [await upload(messageMediaKey(tenantId, randomUUID(), 'jpg')), await upload(messageMediaKey(tenantId, randomUUID(), 'ogg'))];
  const leads = await withTenant(tenantId, async (tx) => {
    const lead = (waId: string, phone: string | null, lid: string | null, email: string | null) => tx.oneFirst(sql.type(id)`
      INSERT INTO leads (tenant_id, bot_id, wa_id, phone_e164, lid, name, email, score)
      VALUES (${tenantId}, ${botId}, ${waId}, ${phone}, ${lid}, ${NAME}, ${email}, 20) RETURNING id`);
    const phoneLead = await lead(PHONE.slice(1), PHONE, LID, EMAIL);
    const lidLead = await lead(LID, null, null, null);
    const oldLead = await lead(OLD_PHONE.slice(1), OLD_PHONE, null, null);
    const message = (leadId: string, waMessageId: string, key: string | null, contentType: string | null) => tx.query(sql.unsafe`
      INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, media_object_key, media_content_type)
      VALUES (${tenantId}, ${botId}, ${leadId}, 'inbound', ${waMessageId}, ${BODY}, ${key}, ${contentType})`);
    await message(phoneLead, 'SUBJ-1', media[0]!, 'image/jpeg');
    await message(phoneLead, 'SUBJ-2', null, null);
    await message(lidLead, 'SUBJ-3', media[1]!, 'audio/ogg');
    await message(oldLead, 'SUBJ-4', null, null);
    await tx.query(sql.unsafe`
      INSERT INTO lead_stage_events (tenant_id, lead_id, from_stage_id, to_stage_id, reason) VALUES (${tenantId}, ${phoneLead}, NULL, ${tenant.stageIds[0]}, 'created')`);
    await tx.query(sql.unsafe`
      INSERT INTO lead_events (tenant_id, lead_id, kind, payload) VALUES (${tenantId}, ${phoneLead}, 'lead.qualified', ${sql.jsonb({ waId: PHONE.slice(1) })})`);
    await tx.query(sql.unsafe`INSERT INTO lead_identity_pairings (tenant_id, bot_id, phone_e164, lid) VALUES (${tenantId}, ${botId}, ${PHONE}, ${LID})`);
    await tx.query(sql.unsafe`
      INSERT INTO dead_letters (tenant_id, bot_id, wa_message_id, message, reason)
      VALUES (${tenantId}, ${botId}, 'SUBJ-DEAD', ${sql.jsonb({ tenantId, botId, waId: PHONE.slice(1), phoneE164: PHONE, waMessageId: 'SUBJ-DEAD', text: BODY, receivedAt: '2026-01-01T00:00:00.000Z' })}, 'fixture')`);
    const sequenceId = await tx.oneFirst(sql.type(id)`INSERT INTO email_sequences (tenant_id, name) VALUES (${tenantId}, ${`Welcome ${randomUUID()}`}) RETURNING id`);
    const enrollmentId = await tx.oneFirst(sql.type(id)`
      INSERT INTO email_enrollments (tenant_id, sequence_id, lead_id, address, source)
      VALUES (${tenantId}, ${sequenceId}, ${phoneLead}, ${EMAIL.toLowerCase()}, 'api') RETURNING id`);
    await tx.query(sql.unsafe`
      INSERT INTO email_deliveries (tenant_id, enrollment_id, step, message_id, recipient, smtp_response)
      VALUES (${tenantId}, ${enrollmentId}, 0, ${`<${randomUUID()}@botinteligente.local>`}, ${EMAIL}, '250 OK')`);
    await tx.query(sql.unsafe`INSERT INTO email_suppressions (tenant_id, address, reason, detail) VALUES (${tenantId}, ${EMAIL}, 'unsubscribed', 'one-click')`);
    await tx.query(sql.unsafe`
      INSERT INTO schedule_follow_ups (tenant_id, schedule_id, firing_id, bot_id, lead_id, status, wa_message_id)
      VALUES (${tenantId}, ${randomUUID()}, ${`schedule-run/${tenantId}/${randomUUID()}-subject`}, ${botId}, ${phoneLead}, 'sent', 'SUBJ-FOLLOW-UP')`);
    await tx.query(sql.unsafe`
      INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (${tenantId}, 'test', 'lead.noted', ${sql.jsonb({ phone: PHONE, leadId: phoneLead })})`);
    return [phoneLead, lidLead, oldLead];
  }, { actor: 'test' });
  personLeads.set(tenantId, leads);
  return leads;
};

/** A duplicate-identity finding about the person, and a merge fix whose log holds a lead's before-image. */
const seedIntegrityRecords = async (tenantId: string, leadId: string) => {
  const run = await pools.maintenance.oneFirst(sql.type(id)`
    INSERT INTO integrity_runs (scope, scope_tenant_id, workflow_id) VALUES (${`tenant-${tenantId}`}, ${tenantId}, 'test') RETURNING id`);
  const finding = await pools.maintenance.oneFirst(sql.type(id)`
    INSERT INTO integrity_findings (run_id, check_name, severity, finding_key, affected_tenant_id, summary, details)
    VALUES (${run}, 'duplicate-lead-identity', 'warning', ${`bot:x:phone:${PHONE}`}, ${tenantId}, ${`two leads share ${PHONE}`},
            ${sql.jsonb({ identity: PHONE, leadIds: [leadId] })}) RETURNING id`);
  const fix = await pools.maintenance.oneFirst(sql.type(id)`INSERT INTO integrity_fixes (finding_id, class) VALUES (${finding}, 'approval') RETURNING id`);
  await pools.maintenance.query(sql.unsafe`
    INSERT INTO integrity_fix_log (fix_id, position, table_name, key_column, row_key, operation, before_image)
    VALUES (${fix}, 0, 'leads', 'id', ${leadId}, 'delete', ${sql.jsonb({ id: leadId, phone_e164: OLD_PHONE, name: NAME })})`);
};

const tableNames = z.object({ name: z.string() });
const hit = z.object({ table: z.string(), row: z.string() });
/**
 * Every row of every table (seen by the maintenance role, across tenants) that contains one of
 * `needles` and is not tenant B's: the brute-force answer to "what is held about the person".
 */
const rowsMentioning = async (needles: readonly string[]) => {
  const tables = await pools.maintenance.anyFirst(sql.type(tableNames)`
    SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`);
  const hits: z.infer<typeof hit>[] = [];
  for (const table of tables) {
    hits.push(...await pools.maintenance.any(sql.type(hit)`
      SELECT ${table} AS "table", t::text AS row FROM ${sql.identifier([table])} t
       WHERE EXISTS (SELECT 1 FROM unnest(${sql.array([...needles], 'text')}::text[]) n WHERE strpos(t::text, n) > 0)
         AND strpos(t::text, ${tenantB.tenantId}) = 0`));
  }
  return hits;
};

const isHolding = ({ table }: { table: string }) => (HOLDING_TABLES as string[]).includes(table);

const objectsUnder = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((object) => object.Key!).sort();

const digest = z.object({ digest: z.string() });
/** Tenant B's rows of every holding table, for byte-for-byte comparison. */
const tenantDigest = (tenantId: string) => pools.maintenance.oneFirst(sql.type(digest)`
  SELECT md5(string_agg(r, ',' ORDER BY r)) AS digest FROM (
    SELECT l::text AS r FROM leads l WHERE tenant_id = ${tenantId} UNION ALL SELECT m::text FROM lead_messages m WHERE tenant_id = ${tenantId}
    UNION ALL SELECT p::text FROM lead_identity_pairings p WHERE tenant_id = ${tenantId} UNION ALL SELECT d::text FROM dead_letters d WHERE tenant_id = ${tenantId}
    UNION ALL SELECT e::text FROM email_deliveries e WHERE tenant_id = ${tenantId} UNION ALL SELECT s::text FROM email_suppressions s WHERE tenant_id = ${tenantId}
    UNION ALL SELECT a::text FROM data_change_audit a WHERE tenant_id = ${tenantId} UNION ALL SELECT g::text FROM audit_logs g WHERE tenant_id = ${tenantId}) rows`);

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() as Record<string, unknown> };
};

type ExportDocument = {
  format: string; version: number; tenantId: string; identifiers: { phones: string[]; lids: string[]; emails: string[]; leadIds: string[] };
  tables: Record<string, Record<string, unknown>[]>; media: { messageId: string; objectKey: string; contentType: string }[];
};

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  pools = await createDatabasePools(base.database);
  tokenPool = await createTokenAdminPool(base.database);
  withTenant = createWithTenant(pools.app, { maxAttempts: 3, retryBaseMs: 5 });
  [tenantA, tenantB] = [await seedTenant(withTenant), await seedTenant(withTenant)];
  const [leadA] = await seedPerson(tenantA);
  await seedPerson(tenantB);
  await seedIntegrityRecords(tenantA.tenantId, leadA!);
  // Tenant A's other lead has media too: it must stay.
  const otherMedia = await upload(messageMediaKey(tenantA.tenantId, randomUUID(), 'png'));
  await withTenant(tenantA.tenantId, (tx) => tx.query(sql.unsafe`
    INSERT INTO lead_messages (tenant_id, bot_id, lead_id, direction, wa_message_id, body, media_object_key, media_content_type)
    VALUES (${tenantA.tenantId}, ${tenantA.botId}, ${tenantA.leadId}, 'inbound', 'OTHER-MEDIA', 'a photo', ${otherMedia}, 'image/png')`));
  client = await connectTemporalClient(config.temporal);
  const workerConnection = await connectTemporalWorker(config.temporal);
  closeWorkerConnection = () => workerConnection.connection.close();
  worker = await Worker.create({
    ...workerConnection, taskQueue: TASK_QUEUE, workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    activities: createDataSubjectActivities({ withTenant, objects: { s3, bucket } }),
  });
  running = worker.run();
  api = createApp({
    config, pools, tokenPool, withTenant, logger: pino({ level: 'silent' }), s3, temporalHealthy: async () => true, temporal: async () => client,
  });
  const server = await api.start(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  tokenA = (await issueToken(tokenPool, { tenantId: tenantA.tenantId, name: 'test', expiresAt: null, actor: 'test' }))!.token;
  tokenB = (await issueToken(tokenPool, { tenantId: tenantB.tenantId, name: 'attacker', expiresAt: null, actor: 'test' }))!.token;
}, 120_000);
afterAll(async () => {
  await api?.stop();
  worker?.shutdown();
  await running;
  await closeWorkerConnection?.();
  await client?.connection.close();
  await deleteObjectKeys({ s3, bucket }, uploaded);
  s3.destroy();
  await Promise.all([pools?.end(), tokenPool?.end()]);
});

describe('data-subject rights', () => {
  it('every table with a foreign key to leads is in the export and erasure catalogue', async () => {
    const referencing = await pools.maintenance.anyFirst(sql.type(tableNames)`
      SELECT DISTINCT conrelid::regclass::text AS name FROM pg_constraint WHERE contype = 'f' AND confrelid = 'leads'::regclass ORDER BY 1`);
    expect(referencing.length).toBeGreaterThan(0);
    expect([...HOLDING_TABLES]).toEqual(expect.arrayContaining([...referencing]));
  });

  it('refuses a body that names nobody, or two, or a number E.164 cannot hold: 400 problems', async () => {
    for (const body of [{}, { phone: '12' }, { phone: '0011987654321' }, { phone: '+55 (11) 98765-4321' }, { phone: '1234567890123456' }, { phone: PHONE, email: EMAIL }, { email: 'not-an-address' }, { phone: PHONE, extra: 1 }]) {
      const answer = await call('POST', `/tenants/${tenantA.tenantId}/data-subjects/export`, tokenA, body);
      expect({ body, status: answer.status, title: answer.json.title }).toEqual({ body, status: 400, title: 'Invalid request' });
    }
    expect((await call('POST', `/tenants/${tenantA.tenantId}/data-subjects/erasure`, tokenA, { phone: 'x' })).status).toBe(400);
  });

  it('from another tenant: tenant A\'s routes answer 404, and its own export never holds tenant A\'s rows', async () => {
    for (const path of ['export', 'erasure']) {
      const answer = await call('POST', `/tenants/${tenantA.tenantId}/data-subjects/${path}`, tokenB, { phone: PHONE });
      expect(answer.status).toBe(404);
    }
    expect((await call('GET', `/tenants/${tenantA.tenantId}/data-subjects/erasure/${randomUUID()}`, tokenB)).status).toBe(404);
    const own = await call('POST', `/tenants/${tenantB.tenantId}/data-subjects/export`, tokenB, { phone: PHONE });
    expect(own.status).toBe(200);
    const document = own.json as unknown as ExportDocument;
    expect(document.identifiers.leadIds.sort()).toEqual([...personLeads.get(tenantB.tenantId)!].sort());
    expect(JSON.stringify(document)).not.toContain(tenantA.tenantId);
  });

  let exported: ExportDocument;

  it('exports everything held about the person, found by any form of their number: every row a search of all tables finds', async () => {
    // The old eight-digit form and a JID name the same person as the nine-digit E.164 number.
    const byOldForm = await call('POST', `/tenants/${tenantA.tenantId}/data-subjects/export`, tokenA, { phone: OLD_PHONE });
    const byJid = await call('POST', `/tenants/${tenantA.tenantId}/data-subjects/export`, tokenA, { phone: `${PHONE.slice(1)}:3@s.whatsapp.net` });
    expect(byOldForm.status).toBe(200);
    exported = byOldForm.json as unknown as ExportDocument;
    expect({ ...(byJid.json as unknown as ExportDocument), generatedAt: null }).toEqual({ ...exported, generatedAt: null });
    expect(exported).toMatchObject({ format: 'botinteligente.data-subject-export', version: 1, tenantId: tenantA.tenantId });
    expect(exported.identifiers).toEqual({ phones: [OLD_PHONE, PHONE].sort(), lids: [LID], emails: [EMAIL], leadIds: expect.any(Array) });
    expect(exported.identifiers.leadIds.sort()).toEqual([...personLeads.get(tenantA.tenantId)!].sort());
    expect(Object.fromEntries(Object.entries(exported.tables).map(([table, rows]) => [table, rows.length]))).toEqual({
      leads: 3, lead_messages: 4, lead_stage_events: 1, lead_events: 1, lead_identity_pairings: 1, dead_letters: 1,
      email_enrollments: 1, email_deliveries: 1, email_suppressions: 1, schedule_follow_ups: 1, lead_image_sends: 0,
    });
    expect(exported.media.map((media) => media.contentType).sort()).toEqual(['audio/ogg', 'image/jpeg']);
    // By e-mail: the same person (the e-mail's lead links their phone, lid and other leads).
    const byEmail = (await call('POST', `/tenants/${tenantA.tenantId}/data-subjects/export`, tokenA, { email: EMAIL.toUpperCase() })).json as unknown as ExportDocument;
    expect(byEmail.identifiers.leadIds.sort()).toEqual(exported.identifiers.leadIds.sort());

    // Every row of a catalogued table that mentions the person is in the export; the others are the
    // audit and integrity records, which an erasure redacts.
    const exportedRows = Object.values(exported.tables).flat();
    const found = await rowsMentioning([...NEEDLES, ...exported.identifiers.leadIds]);
    expect(found.filter(isHolding).length).toBe(exportedRows.length);
    expect([...new Set(found.map(({ table }) => table))].filter((table) => !(HOLDING_TABLES as string[]).includes(table)).sort())
      .toEqual(['audit_logs', 'data_change_audit', 'integrity_findings', 'integrity_fix_log']);
    const audit = await pools.maintenance.one(sql.type(z.object({ actor: z.string(), details: z.record(z.string(), z.unknown()) }))`
      SELECT actor, details FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'data-subject.exported' ORDER BY created_at DESC LIMIT 1`);
    expect(audit.details).toMatchObject({ subjectHash: expect.stringMatching(/^[0-9a-f]{64}$/), counts: expect.objectContaining({ leads: 3, objects: 2 }) });
    expect(JSON.stringify(audit)).not.toContain(PHONE.slice(3));
  });

  it('erases: no row and no object of the person is left in tenant A, the request is kept without their data, tenant B is untouched', async () => {
    const beforeB = await tenantDigest(tenantB.tenantId);
    const objectsB = await objectsUnder(tenantPrefix(tenantB.tenantId));
    const answer = await call('POST', `/tenants/${tenantA.tenantId}/data-subjects/erasure`, tokenA, { phone: PHONE });
    expect(answer).toEqual({ status: 202, json: { requestId: expect.any(String), workflowId: expect.any(String), status: 'pending', statusPath: expect.any(String) } });
    const requestId = answer.json.requestId as string;
    expect(answer.json.workflowId).toBe(dataSubjectErasureWorkflowId(tenantA.tenantId, requestId));
    const counts = await client.workflow.getHandle<typeof dataSubjectErasure>(answer.json.workflowId as string).result();

    // What was deleted is what the export held, table by table.
    for (const table of HOLDING_TABLES) expect({ table, count: counts[table] }).toEqual({ table, count: exported.tables[table]!.length });
    expect(counts.objects).toBe(exported.media.length);
    expect(counts).toMatchObject({ 'redacted.audit_logs': 1, 'redacted.integrity_findings': 1, 'redacted.integrity_fix_log': 1 });
    expect(counts['redacted.data_change_audit']).toBeGreaterThanOrEqual(6); // each lead's INSERT and DELETE image

    expect(await rowsMentioning(NEEDLES)).toEqual([]);
    // The erased leads' ids are left only as the record id of redacted audit and integrity records.
    const byLeadId = await rowsMentioning(exported.identifiers.leadIds);
    expect(byLeadId.filter(isHolding)).toEqual([]);
    expect([...new Set(byLeadId.map(({ table }) => table))].sort()).toEqual(['data_change_audit', 'integrity_fix_log']);
    const objectsA = await objectsUnder(tenantPrefix(tenantA.tenantId));
    for (const { objectKey } of exported.media) expect(objectsA).not.toContain(objectKey);
    expect(objectsA.filter((key) => key.includes('/media/'))).toHaveLength(1); // the other lead's
    expect(await withTenant(tenantA.tenantId, (tx) => tx.exists(sql.unsafe`SELECT 1 FROM leads WHERE id = ${tenantA.leadId}`))).toBe(true);

    expect(await tenantDigest(tenantB.tenantId)).toBe(beforeB);
    expect(await objectsUnder(tenantPrefix(tenantB.tenantId))).toEqual(objectsB);

    const status = await call('GET', `/tenants/${tenantA.tenantId}/data-subjects/erasure/${requestId}`, tokenA);
    expect(status).toEqual({ status: 200, json: {
      requestId, workflowId: answer.json.workflowId, status: 'completed', subjectHash: expect.stringMatching(/^[0-9a-f]{64}$/), counts,
      requestedBy: expect.stringMatching(/^api:/), requestedAt: expect.any(String), completedAt: expect.any(String),
    } });
    const audit = await pools.maintenance.one(sql.type(z.object({ actor: z.string(), details: z.record(z.string(), z.unknown()) }))`
      SELECT actor, details FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'data-subject.erased'`);
    expect(audit).toEqual({ actor: 'data-subject-erasure', details: {
      requestId, subjectHash: status.json.subjectHash, salt: expect.stringMatching(/^[0-9a-f]{32}$/), requestedBy: status.json.requestedBy, counts,
    } });

    // Idempotent: the same request run again erases nothing more and answers the recorded counts.
    const again = await client.workflow.execute<typeof dataSubjectErasure>('dataSubjectErasure', {
      workflowId: `${answer.json.workflowId as string}-again`, taskQueue: TASK_QUEUE, args: [{ tenantId: tenantA.tenantId, requestId }],
    });
    expect(again).toEqual(counts);
    expect(await pools.maintenance.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = ${tenantA.tenantId} AND action = 'data-subject.erased'`)).toBe(1);
  }, 60_000);

  it('an erasure request of another tenant is never found, and an unknown one is 404', async () => {
    expect((await call('GET', `/tenants/${tenantA.tenantId}/data-subjects/erasure/${randomUUID()}`, tokenA)).status).toBe(404);
    const requestOfA = await pools.maintenance.oneFirst(sql.type(id)`SELECT id FROM data_subject_erasures WHERE tenant_id = ${tenantA.tenantId} AND requested_by LIKE 'api:%'`);
    expect((await call('GET', `/tenants/${tenantB.tenantId}/data-subjects/erasure/${requestOfA}`, tokenB)).status).toBe(404);
  });
});
