// The floor's only activity: reports to the benchmark (over IPC) when each message was handled.
export const FLOOR_TASK_QUEUE = 'bench-floor';
/** Served by a second process that runs activities only, like a bot pod. */
export const FLOOR_REMOTE_TASK_QUEUE = 'bench-floor-activities';

export type FloorActivities = {
  /** Handled: reports the key. */
  noop(key: string): Promise<void>;
  /** A step on the way that reports nothing (the shaped floor's ingest and send). */
  pass(): Promise<void>;
};

export const createFloorActivities = (report: (key: string, at: number) => void): FloorActivities => ({
  async noop(key) { report(key, Date.now()); },
  async pass() {},
});
