// Names shared by the backup workflows, the worker that schedules them and the API that starts them.
export const BACKUP_KINDS = ['nightly', 'manual', 'safety'] as const;
export type BackupKind = typeof BACKUP_KINDS[number];

export const BACKUP_SCHEDULE_ID = 'backup-nightly';
export const DRILL_SCHEDULE_ID = 'restore-drill-weekly';

/** One restore of a backup at a time: a second start while one runs collides on the id. */
export const restoreWorkflowId = (backupId: string): string => `restore/${backupId}`;
export const manualBackupWorkflowId = (key: string): string => `backup-manual/${key}`;
export const manualDrillWorkflowId = (key: string): string => `restore-drill-manual/${key}`;

export type RestoreTarget = { readonly database: string } | { readonly live: true };
export type RestoreInput = { readonly backupId: string; readonly target: RestoreTarget; readonly requestedBy: string };
export type RestoreApproval = { readonly approvedBy: string };
export const RESTORE_PHASES = ['verifying', 'awaiting-approval', 'safety-backup', 'restoring', 'swapping', 'done', 'failed'] as const;
export type RestorePhase = typeof RESTORE_PHASES[number];

export const APPROVE_RESTORE_SIGNAL = 'approveRestore';
export const RESTORE_PHASE_QUERY = 'restorePhase';
/**
 * A restore's progress, also kept in its memo under this key: the API reads it with a describe,
 * which the server answers alone, where a query waits for a worker (and times out under load).
 */
export const RESTORE_PROGRESS_MEMO = 'restoreProgress';
export type RestoreProgress = { phase: RestorePhase; requestedBy: string; approvedBy: string | null; reason: string | null };

/** Restore targets and scratch databases: lower-case identifiers, never the platform's own names. */
export const RESTORE_DATABASE_NAME = /^[a-z][a-z0-9_]{2,62}$/;
export const drillDatabaseName = (backupId: string): string => `drill_${backupId.toLowerCase().replace(/-/g, '_')}`;
export const stagingDatabaseName = (backupId: string): string => `restore_${backupId.toLowerCase().replace(/-/g, '_')}`;
