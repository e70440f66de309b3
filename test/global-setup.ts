// Brings up the real local stack once for the whole run (reusing whatever already runs), and gives
// the tests a freshly migrated database of their own.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config.ts';
import { migrateUp } from '../core/db/migrations.ts';
import { recreateDatabase } from '../stack/databases.ts';
import { startStack, type StackHandle } from '../stack/harness.ts';
import { startKube, stopKube } from '../stack/kube.ts';
import { TEST_DATABASE, testEnvironment } from './support/test-config.ts';

declare global {
  var __STACK__: StackHandle | undefined;
  var __STOP_KUBE__: (() => Promise<void>) | undefined;
}

export default async function globalSetup(): Promise<void> {
  const base = loadConfig();
  const log = (message: string) => process.stderr.write(`[stack] ${message}\n`);
  const [stack, kube] = await Promise.all([startStack(base, { log }), startKube(base)]);
  globalThis.__STACK__ = stack;
  globalThis.__STOP_KUBE__ = kube.reused ? undefined : () => stopKube(base);
  log(`kube-apiserver: ${kube.reused ? 'reused (already running)' : 'started'}`);

  const environment = { ...testEnvironment(base), KUBE_CONFIG_FILE: kube.kubeconfig };
  // Jest hands configuration to test files only through the environment.
  Object.assign(process.env, environment);
  const config = loadConfig();

  await recreateDatabase(config.database.migrationUrl, TEST_DATABASE);
  await migrateUp({
    url: config.database.migrationUrl,
    directory: fileURLToPath(new URL('../migrations', import.meta.url)),
    log: () => undefined,
  });
}
