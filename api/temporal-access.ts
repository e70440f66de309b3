// The API's way to Temporal: the fast-failing lazy client of core/temporal/client.ts, its readiness
// probe and its close.
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config.ts';
import { lazyTemporalClient } from '../core/temporal/client.ts';

export type TemporalAccess = {
  readonly client: () => Promise<Client>;
  /** Readiness: the frontend answers GetSystemInfo within the deadline. */
  readonly healthy: () => Promise<boolean>;
  readonly close: () => Promise<void>;
};

export const createTemporalAccess = (temporal: Config['temporal']): TemporalAccess => {
  const client = lazyTemporalClient(temporal);
  return {
    client: async () => client,
    healthy: async () => {
      await client.connection.workflowService.getSystemInfo({});
      return true;
    },
    close: () => client.connection.close(),
  };
};
