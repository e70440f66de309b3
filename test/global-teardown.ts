import { loadConfig } from '../core/config.ts';
import { terminateRunningWorkflows } from '../stack/workflows.ts';
import { TEST_TASK_QUEUE } from './support/test-config.ts';

// Ends what the tests left running on their task queue, then stops only what the global setup
// started; services it reused keep running.
export default async function globalTeardown(): Promise<void> {
  await terminateRunningWorkflows(loadConfig().temporal, TEST_TASK_QUEUE, 'the test run ended');
  await Promise.all([globalThis.__STACK__?.stop(), globalThis.__STOP_KUBE__?.()]);
}
