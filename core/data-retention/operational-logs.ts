// The logs the platform keeps for operators (a bot's connection history, the attempts to deliver
// owner webhooks) hold no personal data, but they grow with time: a bot whose connection flaps writes
// events every few seconds. The daily retention deletes those older than
// OPERATIONAL_LOG_RETENTION_DAYS on every tenant, as the maintenance role, in short batches.
import { sql, type CommonQueryMethods } from 'slonik';

export const OPERATIONAL_LOGS = {
  bot_session_events: 'created_at',
  owner_webhook_deliveries: 'attempted_at',
} as const;

export type OperationalLog = keyof typeof OPERATIONAL_LOGS;

/** Deletes at most `limit` rows of `log` older than `days`; returns how many went. */
export const pruneOperationalLogBatch = async (pool: CommonQueryMethods, log: OperationalLog, days: number, limit: number): Promise<number> => {
  const [table, column] = [sql.identifier([log]), sql.identifier([OPERATIONAL_LOGS[log]])];
  const result = await pool.query(sql.unsafe`
    DELETE FROM ${table} WHERE id IN (
      SELECT id FROM ${table} WHERE ${column} < now() - make_interval(days => ${days}) LIMIT ${limit})`);
  return result.rowCount;
};
