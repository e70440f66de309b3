// The platform's alerts: an audit entry and a platform event (which the API streams to platform
// admins). Any feature raises them; written by the maintenance role, no tenant can read either.
import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';

export type PlatformEventKind =
  | 'backup.completed' | 'backup.failed' | 'restore.completed' | 'restore.failed' | 'drill.passed' | 'drill.failed' | 'retention.applied'
  | 'lead.dead_lettered' | 'integrity.critical_finding';

/**
 * One audit entry (tenant NULL: a platform action) and one platform event, in one transaction. Given
 * a transaction, they join it (a savepoint): the alert commits with the change it reports, or not at all.
 */
export const alert = (pool: DatabasePool | DatabaseTransactionConnection, kind: PlatformEventKind, actor: string, payload: Record<string, unknown>) =>
  pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`INSERT INTO audit_logs (tenant_id, actor, action, details) VALUES (NULL, ${actor}, ${kind}, ${sql.jsonb(payload as never)})`);
    await tx.query(sql.unsafe`INSERT INTO platform_events (kind, payload) VALUES (${kind}, ${sql.jsonb(payload as never)})`);
  });

/** One alert per payload, as `alert` raises them, in two statements however many there are. */
export const alertEach = (tx: DatabaseTransactionConnection, kind: PlatformEventKind, actor: string, payloads: readonly Record<string, unknown>[]) =>
  tx.transaction(async (inner) => {
    const rows = sql.fragment`SELECT p.value AS payload, p.n FROM jsonb_array_elements(${sql.jsonb(payloads as never)}) WITH ORDINALITY AS p(value, n)`;
    await inner.query(sql.unsafe`INSERT INTO audit_logs (tenant_id, actor, action, details) SELECT NULL, ${actor}, ${kind}, payload FROM (${rows}) r ORDER BY n`);
    await inner.query(sql.unsafe`INSERT INTO platform_events (kind, payload) SELECT ${kind}, payload FROM (${rows}) r ORDER BY n`);
  });

/** The alert as an activity, for workflows that raise one themselves. */
export const createPlatformEventActivities = (deps: { maintenancePool: DatabasePool }) => ({
  async recordPlatformEvent(input: { kind: PlatformEventKind; actor: string; payload: Record<string, unknown> }): Promise<void> {
    await alert(deps.maintenancePool, input.kind, input.actor, input.payload);
  },
});

export type PlatformEventActivities = ReturnType<typeof createPlatformEventActivities>;
