// Contract of the platform self-check: proves that a worker reaches Temporal, Postgres and S3.
export type DatabaseCheck = {
  readonly schemaVersion: number;
  readonly appliedMigrations: number;
  readonly serverVersion: string;
};

export type ObjectStoreCheck = {
  readonly bucket: string;
  readonly reachable: true;
};

export type SelfCheckReport = {
  readonly database: DatabaseCheck;
  readonly objectStore: ObjectStoreCheck;
  readonly checkedAt: string;
};

/** One self-check per request: a readable id an operator finds in Temporal UI. */
export const selfCheckWorkflowId = (requestId: string): string => `self-check/${requestId}`;
