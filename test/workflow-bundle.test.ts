// Every workflow instance loads its own copy of each module in the workflow bundle: the SDK's
// reusable V8 context shares the context, not module state. A library that a contract file pulls
// in (zod once came in through core/temporal) costs every cached workflow its whole size, and the
// worker's heap grew to about 0.7 MB per idle lead conversation.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/** @temporalio/workflow and @temporalio/common, and what they themselves import. */
const TEMPORAL_SDK_PACKAGES = ['@temporalio/common', '@temporalio/workflow', 'long', 'ms', 'nexus-rpc'];

const packagesIn = (code: string) =>
  [...new Set([...code.matchAll(/"\.\/node_modules\/((?:@[^/"]+\/)?[^/"]+)\//g)].map((match) => match[1]!))].sort();

describe('the workflow bundle', () => {
  it('holds the Temporal SDK and the platform\'s own modules, no other library', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
      logger: new DefaultLogger('WARN'),
    });
    expect(packagesIn(code)).toEqual(TEMPORAL_SDK_PACKAGES);
  });
});
