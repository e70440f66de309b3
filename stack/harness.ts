// The local stack: Postgres, the Temporal dev server, an S3 server and an SMTP server (mailpit), started (or reused when
// already running and healthy), checked, and stopped. Used by `npm start` and by the tests.
import type { Config } from '../core/config.ts';
import { ensureLocalEncryptionKey } from './local-key.ts';
import { startMailpit, stopMailpit } from './mailpit.ts';
import { startPostgres, stopPostgres } from './postgres.ts';
import { startS3, stopS3 } from './s3.ts';
import { startTemporal, stopTemporal } from './temporal.ts';

export type StackHandle = {
  readonly urls: { readonly postgres: string; readonly temporalGrpc: string; readonly temporalUi: string; readonly s3: string; readonly mailpit: string };
  readonly reused: { readonly postgres: boolean; readonly temporal: boolean; readonly s3: boolean; readonly mailpit: boolean };
  /** Stops what this call started; services it reused keep running. */
  readonly stop: () => Promise<void>;
};

export const startStack = async (config: Config, options: { log: (message: string) => void }): Promise<StackHandle> => {
  const { log } = options;
  const [postgres, temporal, s3, mailpit] = await Promise.all([startPostgres(config), startTemporal(config), startS3(config), startMailpit(config)]);
  const reused = { postgres: postgres.reused, temporal: temporal.reused, s3: s3.reused, mailpit: mailpit.reused };
  if (ensureLocalEncryptionKey(config)) log(`created a local encryption key in ${config.encryption.keysFile}`);
  for (const [name, wasReused] of Object.entries(reused)) log(`${name}: ${wasReused ? 'reused (already running)' : 'started'}`);
  return {
    urls: { postgres: postgres.url, temporalGrpc: temporal.grpc, temporalUi: temporal.ui, s3: s3.url, mailpit: mailpit.url },
    reused,
    stop: async () => {
      await Promise.all([
        reused.temporal ? undefined : stopTemporal(config),
        reused.s3 ? undefined : stopS3(config),
        reused.mailpit ? undefined : stopMailpit(config),
        reused.postgres ? undefined : stopPostgres(config),
      ]);
    },
  };
};

/** Stops every service the harness started from this stack directory, whoever started it. */
export const stopStack = async (config: Config): Promise<void> => {
  await Promise.all([stopTemporal(config), stopS3(config), stopMailpit(config), stopPostgres(config)]);
};
