// Every key layout of the bucket, in one place, so a check that lists the bucket (orphans, retention)
// knows every kind of object that may be in it:
//   backups/<backupId>/database.dump.<zst|gz>.enc     a backup's database dump
//   backups/<backupId>/sessions/<tenantId>.tar.gz.enc every tenant's session files, in that backup
//   backups/<backupId>/manifest.json                  the backup's manifest (written last)
//   tenants/<tenantId>/images/<uuid>.<ext>            a bot's uploaded image
//   tenants/<tenantId>/media/<uuid>.<ext>             a message's media (lead_messages.media_object_key)
//   tenants/<tenantId>/sessions/<time>.tar.gz.enc     a session snapshot taken on request
//   quarantine/<fixId>/<original key>                 an object a data-integrity fix set aside (undo moves it back)
//   tenant-tombstones/<tenantId>/<time>.tar.gz.enc    a deleted tenant's last session snapshot (core/tenant-delete/tombstone.ts)
import { BACKUP_ID } from './backups/backup-id.ts';

// Everything of one backup under one prefix, so retention deletes a backup by its prefix and the
// bucket can be listed per backup.
export const BACKUP_PREFIX = 'backups/';

export const backupPrefix = (backupId: string): string => `${BACKUP_PREFIX}${backupId}/`;
export const databaseObjectKey = (backupId: string, compression: 'zstd' | 'gzip'): string =>
  `${backupPrefix(backupId)}database.dump.${compression === 'zstd' ? 'zst' : 'gz'}.enc`;
export const sessionsObjectKey = (backupId: string, tenantId: string): string => `${backupPrefix(backupId)}sessions/${tenantId}.tar.gz.enc`;
export const manifestKey = (backupId: string): string => `${backupPrefix(backupId)}manifest.json`;

/** The backup a key belongs to, or null for an object outside any backup's prefix. */
export const backupIdOfKey = (key: string): string | null => {
  const id = key.slice(BACKUP_PREFIX.length).split('/')[0] ?? '';
  return key.startsWith(BACKUP_PREFIX) && BACKUP_ID.test(id) ? id : null;
};

// A tenant's own objects live under its prefix; a bot pod reads only objects under its tenant's.
export const TENANTS_PREFIX = 'tenants/';
export const tenantPrefix = (tenantId: string): string => `${TENANTS_PREFIX}${tenantId}/`;

/** Whether `key` is one of the tenant's own objects (no `..` climbing out of its prefix). */
export const isTenantObjectKey = (key: string, tenantId: string): boolean =>
  key.startsWith(tenantPrefix(tenantId)) && !key.includes('..');

export const tenantImageKey = (tenantId: string, imageId: string, extension: string): string =>
  `${tenantPrefix(tenantId)}images/${imageId}.${extension}`;

/** Object key of a message's media: claimed by its lead_messages row, deleted with it (retention, erasure). */
export const messageMediaKey = (tenantId: string, mediaId: string, extension: string): string =>
  `${tenantPrefix(tenantId)}media/${mediaId}.${extension}`;

/** Object key of a tenant's session snapshot taken at `at` (an ISO timestamp). */
export const sessionSnapshotKey = (tenantId: string, at: string): string =>
  `${tenantPrefix(tenantId)}sessions/${at.replace(/[:.]/g, '-')}.tar.gz.enc`;

/** Where an integrity fix sets an unclaimed object aside: outside `tenants/`, so no tenant reads it, and per fix. */
export const quarantineKey = (fixId: string, key: string): string => `quarantine/${fixId}/${key}`;
