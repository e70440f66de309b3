// The bucket's key layouts: a backup's objects are found by their backup id, a tenant's objects stay
// under its own prefix, and no tenant key is ever taken for a backup's (retention deletes by prefix).
import { describe, expect, it } from '@jest/globals';
import { newBackupId } from '../core/backups/backup-id.ts';
import {
  backupIdOfKey, databaseObjectKey, isTenantObjectKey, manifestKey, messageMediaKey, sessionSnapshotKey, sessionsObjectKey, tenantImageKey,
} from '../core/object-keys.ts';

const tenantId = '6f1c1f50-3b0a-4c55-9a51-2f1d0f3e9a11';
const otherTenantId = '0b9d8a57-8f6e-4f3c-b2a4-7c1e5d2f8a90';
const backupId = newBackupId(new Date(Date.UTC(2026, 10, 23, 3, 0, 0)), '1a2b3c4d5e');

describe('object keys', () => {
  it('place every object of a backup under its prefix', () => {
    expect(backupId).toBe('20261123T030000Z-1a2b3c4d');
    const keys = [databaseObjectKey(backupId, 'zstd'), databaseObjectKey(backupId, 'gzip'), sessionsObjectKey(backupId, tenantId), manifestKey(backupId)];
    expect(keys).toEqual([
      `backups/${backupId}/database.dump.zst.enc`, `backups/${backupId}/database.dump.gz.enc`,
      `backups/${backupId}/sessions/${tenantId}.tar.gz.enc`, `backups/${backupId}/manifest.json`,
    ]);
    expect(keys.map(backupIdOfKey)).toEqual(keys.map(() => backupId));
  });

  it('keep a tenant\'s images, message media and session snapshots under its own prefix, and refuse another tenant\'s key', () => {
    const image = tenantImageKey(tenantId, 'b7c9e0d2-1111-4222-8333-944455556666', 'png');
    const media = messageMediaKey(tenantId, 'c8d0f1e3-2222-4333-9444-a55566667777', 'ogg');
    const snapshot = sessionSnapshotKey(tenantId, '2026-11-23T03:00:00.123Z');
    expect([image, media, snapshot]).toEqual([
      `tenants/${tenantId}/images/b7c9e0d2-1111-4222-8333-944455556666.png`, `tenants/${tenantId}/media/c8d0f1e3-2222-4333-9444-a55566667777.ogg`,
      `tenants/${tenantId}/sessions/2026-11-23T03-00-00-123Z.tar.gz.enc`,
    ]);
    expect([image, media, snapshot].map((key) => isTenantObjectKey(key, tenantId))).toEqual([true, true, true]);
    expect([image, media, snapshot].map((key) => isTenantObjectKey(key, otherTenantId))).toEqual([false, false, false]);
    expect(isTenantObjectKey(`tenants/${tenantId}/../${otherTenantId}/images/x.png`, tenantId)).toBe(false);
    expect([image, media, snapshot].map(backupIdOfKey)).toEqual([null, null, null]);
  });
});
