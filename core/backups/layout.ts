// Where a backup's objects live in the bucket: everything of one backup under one prefix, so
// retention deletes a backup by its prefix and the bucket can be listed per backup.
export const BACKUP_PREFIX = 'backups/';

export const backupPrefix = (backupId: string): string => `${BACKUP_PREFIX}${backupId}/`;
export const databaseObjectKey = (backupId: string, compression: 'zstd' | 'gzip'): string =>
  `${backupPrefix(backupId)}database.dump.${compression === 'zstd' ? 'zst' : 'gz'}.enc`;
export const sessionsObjectKey = (backupId: string, tenantId: string): string => `${backupPrefix(backupId)}sessions/${tenantId}.tar.gz.enc`;
export const manifestKey = (backupId: string): string => `${backupPrefix(backupId)}manifest.json`;

export const BACKUP_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$/;

/** `20261123T030000Z-1a2b3c4d`: the start time (sortable) and a random suffix. */
export const newBackupId = (startedAt: Date, randomHex: string): string =>
  `${startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomHex.slice(0, 8)}`;

/** The backup a key belongs to, or null for an object outside any backup's prefix. */
export const backupIdOfKey = (key: string): string | null => {
  const id = key.slice(BACKUP_PREFIX.length).split('/')[0] ?? '';
  return key.startsWith(BACKUP_PREFIX) && BACKUP_ID.test(id) ? id : null;
};
