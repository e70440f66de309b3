// Heartbeats for work whose progress is not a byte count: pg_restore building indexes, amcheck,
// checksums of a large table. While the work runs it reports what it is doing every 15 s; a worker
// that dies stops the heartbeats, and Temporal retries the activity elsewhere.
import { Context } from '@temporalio/activity';

const EVERY_MS = 15_000;

export const heartbeating = async <T>(details: () => unknown, work: () => Promise<T>, heartbeat?: (details: unknown) => void): Promise<T> => {
  const beat = heartbeat ?? ((value: unknown) => Context.current().heartbeat(value));
  beat(details());
  const timer = setInterval(() => beat(details()), EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
};
