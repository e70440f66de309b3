// A backup's id: its start time, sortable, and a random suffix. Its objects' keys are in
// core/object-keys.ts.
export const BACKUP_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$/;

/** `20261123T030000Z-1a2b3c4d`: the start time (sortable) and a random suffix. */
export const newBackupId = (startedAt: Date, randomHex: string): string =>
  `${startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomHex.slice(0, 8)}`;
