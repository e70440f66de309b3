// Activities of backups, restores, drills and retention (platform worker, maintenance role).
import { performance } from 'node:perf_hooks';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sql } from 'slonik';
import { z } from 'zod';
import { manifestKey } from '../../core/object-keys.ts';
import { manifestObjects, sealManifest, type Manifest, type SessionEntry } from '../../core/backups/manifest.ts';
import type { Config } from '../../core/config.ts';
import type { Keyring } from '../../core/crypto/keyring.ts';
import { databaseNameOf } from '../../core/db/database-url.ts';
import type { DatabasePools } from '../../core/db/pools.ts';
import type { BackupKind } from '../../core/temporal/backups.ts';
import {
  holdBackup, newestCompleteBackup, recordBackupComplete, recordBackupFailed, recordBackupStarted, recordDrill, releaseBackup,
} from './catalog.ts';
import { checkRestoredCopy, type CopyIntegrity } from '../data-integrity/check-restored-copy.ts';
import { alert } from '../platform-events.ts';
import { dumpDatabase, type DatabaseDump } from './database-dump.ts';
import { heartbeating } from './keep-alive.ts';
import { swapIntoLive } from './live-swap.ts';
import { checkRestored, dropDatabase, restoreDatabase, type RestoreDeps } from './restore-database.ts';
import { applyRetention } from './retention.ts';
import { readManifest, verifyBackup } from './verify.ts';

export type BackupActivityDeps = {
  readonly config: Config;
  readonly pools: DatabasePools;
  readonly s3: S3Client;
  readonly keyring: () => Keyring;
  readonly logger: { info(details: object, message: string): void };
};

const seconds = (since: number) => Math.round(performance.now() - since) / 1000;

export const createBackupActivities = (deps: BackupActivityDeps) => {
  const { config, pools, s3 } = deps;
  const store = () => ({ s3, bucket: config.s3.bucket, keyring: deps.keyring() });
  const restoreDeps = (): RestoreDeps => ({
    ...store(), ownerUrl: config.database.migrationUrl, maintenanceUrl: config.database.maintenanceUrl,
    pgBinDir: config.backup.pgBinDir, restoreTemplate: config.backup.restoreTemplate,
  });

  return {
    async beginBackup(input: { backupId: string; kind: BackupKind; workflowId: string }): Promise<void> {
      await recordBackupStarted(pools.maintenance, input);
    },

    async backUpDatabase(input: { backupId: string }): Promise<DatabaseDump> {
      return dumpDatabase({
        databaseUrl: config.database.maintenanceUrl, pgBinDir: config.backup.pgBinDir, ...store(),
        compression: config.backup.compression, compressionLevel: config.backup.compressionLevel, backupId: input.backupId,
      });
    },

    /** Tenants with an active bot (their pod holds sessions), and how long each pod gets. */
    async sessionTenants(): Promise<{ tenantIds: string[]; timeoutSeconds: number }> {
      const tenantIds = await pools.maintenance.anyFirst(sql.type(z.object({ tenant_id: z.uuid() }))`
        SELECT DISTINCT tenant_id FROM bots WHERE status = 'active' ORDER BY tenant_id`);
      return { tenantIds: [...tenantIds], timeoutSeconds: config.backup.sessionsTimeoutSeconds };
    },

    /** Written last: from here on the backup is complete. */
    async writeManifest(input: {
      backupId: string; kind: BackupKind; startedAt: string; dump: DatabaseDump; sessions: SessionEntry[];
    }): Promise<{ manifestKey: string; totalBytes: number }> {
      const body = {
        format: 'botinteligente-backup/1' as const, backupId: input.backupId, kind: input.kind,
        startedAt: input.startedAt, completedAt: new Date().toISOString(),
        keyId: input.dump.keyId, postgres: input.dump.postgres, database: input.dump.database, sessions: input.sessions,
      };
      const text = sealManifest(deps.keyring(), body);
      const key = manifestKey(input.backupId);
      await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: key, Body: text, ContentType: 'application/json' }));
      const totalBytes = manifestObjects(body).reduce((sum, object) => sum + object.bytes, Buffer.byteLength(text));
      return { manifestKey: key, totalBytes };
    },

    async completeBackup(input: { backupId: string; kind: BackupKind; manifestKey: string; totalBytes: number; missingSessions: string[] }): Promise<void> {
      await recordBackupComplete(pools.maintenance, input);
      await alert(pools.maintenance, 'backup.completed', 'backup', {
        backupId: input.backupId, kind: input.kind, totalBytes: input.totalBytes, missingSessions: input.missingSessions,
      });
    },

    async failBackup(input: { backupId: string; kind: BackupKind; reason: string }): Promise<void> {
      await recordBackupFailed(pools.maintenance, input);
      await alert(pools.maintenance, 'backup.failed', 'backup', { backupId: input.backupId, kind: input.kind, reason: input.reason });
    },

    async applyBackupRetention(input: { now: string }) {
      const result = await applyRetention({
        pool: pools.maintenance, ...store(), policy: config.backup.retention, now: new Date(input.now),
        log: (message, details) => deps.logger.info(details, message),
      });
      return { kept: result.plan.keep, deleted: result.plan.delete.map((entry) => entry.id), objectsDeleted: result.objectsDeleted, unclaimedObjects: result.unclaimedObjects };
    },

    /** Retention keeps a backup a restore holds (until `until`, unless released sooner). */
    async holdBackupForRestore(input: { backupId: string; holder: string; until: string }): Promise<void> {
      await holdBackup(pools.maintenance, input);
    },

    async releaseBackupFromRestore(input: { backupId: string; holder: string }): Promise<void> {
      await releaseBackup(pools.maintenance, input);
    },

    /** Manifest and every object checked; no database touched. */
    async verifyBackup(input: { backupId: string }): Promise<{ seconds: number; objects: number; tables: number }> {
      const started = performance.now();
      let objects = 0;
      const manifest = await heartbeating(() => ({ phase: 'verify', objectsVerified: objects }), () => verifyBackup(store(), input.backupId, () => {
        objects += 1;
      }));
      return { seconds: seconds(started), objects, tables: manifest.database.tables.length };
    },

    /** `replacesLive`: the target will be swapped in for the live database. */
    async restoreBackupInto(input: { backupId: string; database: string; replacesLive?: boolean }): Promise<{ seconds: number }> {
      const started = performance.now();
      const manifest = await readManifest(store(), input.backupId);
      await heartbeating(() => ({ phase: 'restore', database: input.database }),
        () => restoreDatabase(restoreDeps(), manifest, input.database, input.replacesLive ? 'live' : 'checks'));
      return { seconds: seconds(started) };
    },

    async checkRestoredDatabase(input: { backupId: string; database: string }) {
      const manifest: Manifest = await readManifest(store(), input.backupId);
      return heartbeating(() => ({ phase: 'check', database: input.database }), () => checkRestored(restoreDeps(), manifest, input.database));
    },

    /** The integrity checks on the restored copy (the weekly drill): findings by severity. */
    async checkRestoredIntegrity(input: { database: string }): Promise<CopyIntegrity> {
      return heartbeating(() => ({ phase: 'integrity', database: input.database }), () => checkRestoredCopy(config.database, input.database));
    },

    async dropRestoredDatabase(input: { database: string }): Promise<void> {
      await dropDatabase(config.database.migrationUrl, input.database);
    },

    async newestCompleteBackup(): Promise<{ backupId: string } | null> {
      const newest = await newestCompleteBackup(pools.maintenance);
      return newest ? { backupId: newest.id } : null;
    },

    async recordDrillResult(input: {
      backupId: string; workflowId: string; startedAt: string; passed: boolean; restoreSeconds: number | null; details: Record<string, unknown>;
    }): Promise<void> {
      await recordDrill(pools.maintenance, input);
      await alert(pools.maintenance, input.passed ? 'drill.passed' : 'drill.failed', 'restore-drill', {
        backupId: input.backupId, restoreSeconds: input.restoreSeconds, ...input.details,
      });
    },

    /** Swaps a restored database in for the live one; returns the old one's new name. */
    async swapRestoredIntoLive(input: { restored: string; backupId: string }): Promise<{ retired: string; live: string }> {
      const live = databaseNameOf(config.database.migrationUrl);
      const retired = `${live}_before_${input.backupId.toLowerCase().replace(/-/g, '_')}`.slice(0, 63);
      await swapIntoLive({ ownerUrl: config.database.migrationUrl, maintenanceUrl: config.database.maintenanceUrl }, input.restored, retired);
      return { retired, live };
    },
  };
};

export type BackupActivities = ReturnType<typeof createBackupActivities>;
