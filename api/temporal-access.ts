// The API's way to Temporal: answers fast and honestly when Temporal is away, and is back within a
// second of Temporal's return. The SDK's defaults (10 retries over ~20 s, reconnects backed off up to
// 2 minutes) made a route hang for 20 s and stay slow for as long after Temporal came back.
import { Client, Connection, type ConnectionOptions, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { Config } from '../core/config.ts';

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

// Long polls wait on the server by design (a workflow's result, an update's outcome); they end when
// the connection does, and what they wait for has a timeout of its own.
const LONG_POLLS = /\/(GetWorkflowExecutionHistory|PollWorkflowExecutionUpdate|UpdateWorkflowExecution)$/;

/**
 * Every other call gets `rpcTimeoutMs` in all, its retries included (this interceptor is the outermost).
 * It only changes the call's options, so it hands on the next call itself (an InterceptingCall at run time).
 */
const deadlineInterceptor = (rpcTimeoutMs: number): Interceptor => (options, nextCall) =>
  nextCall(options.deadline !== undefined || LONG_POLLS.test(options.method_definition.path)
    ? options
    : { ...options, deadline: Date.now() + rpcTimeoutMs }) as ReturnType<Interceptor>;

export type TemporalAccess = {
  readonly client: () => Promise<Client>;
  /** Readiness: the frontend answers GetSystemInfo within the deadline. */
  readonly healthy: () => Promise<boolean>;
  readonly close: () => Promise<void>;
};

export const createTemporalAccess = (temporal: Config['temporal']): TemporalAccess => {
  // Lazy: no connection attempt until a call, so the API starts (and serves its database routes) without Temporal.
  const connection = Connection.lazy({
    address: temporal.address,
    interceptors: [
      deadlineInterceptor(temporal.rpcTimeoutMs),
      // Two quick retries (~50 and ~85 ms later) ride over a frontend restart without holding a request for long.
      makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3, initialIntervalMs: () => 50, maxIntervalMs: () => 200 })),
    ],
    // Reconnect attempts at most 250 ms apart (only while calls are made): the first call after Temporal returns finds the channel up.
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 250 },
  });
  const client = new Client({ connection, namespace: temporal.namespace });
  return {
    client: async () => client,
    healthy: async () => {
      await connection.workflowService.getSystemInfo({});
      return true;
    },
    close: () => connection.close(),
  };
};
