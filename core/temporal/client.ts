// Every connection to Temporal is made here, from `Config['temporal']`: the only place that reads its
// address, namespace, TLS files, API key and timeouts. A production cluster's TLS or API key is set
// once in the configuration and reaches the API, the worker, the bot pods, the stack and the tests.
import { readFileSync } from 'node:fs';
import {
  Client, Connection, type ConnectionOptions, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type TLSConfig,
} from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config.ts';

export type TemporalConfig = Config['temporal'];

const tlsOptions = (tls: TemporalConfig['tls']): TLSConfig | false => {
  if (tls === null) return false;
  return {
    ...(tls.serverName === null ? {} : { serverNameOverride: tls.serverName }),
    ...(tls.caFile === null ? {} : { serverRootCACertificate: readFileSync(tls.caFile) }),
    ...(tls.clientCertFile === null || tls.clientKeyFile === null
      ? {} : { clientCertPair: { crt: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) } }),
  };
};

/** Where and how to reach Temporal: shared by client and worker connections. */
const endpoint = (temporal: TemporalConfig) => ({
  address: temporal.address,
  tls: tlsOptions(temporal.tls),
  ...(temporal.apiKey === null ? {} : { apiKey: temporal.apiKey }),
});

/**
 * A client on a connection opened now (it fails when Temporal does not answer within
 * `connectTimeoutMs`). The caller closes it with `client.connection.close()`.
 */
export const connectTemporalClient = async (temporal: TemporalConfig, options: { connectTimeoutMs?: number } = {}): Promise<Client> => {
  const connection = await Connection.connect({
    ...endpoint(temporal),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeout: options.connectTimeoutMs }),
  });
  return new Client({ connection, namespace: temporal.namespace });
};

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

/**
 * A client that answers fast and honestly when Temporal is away, and is back within a second of
 * Temporal's return (the API's). The SDK's defaults (10 retries over ~20 s, reconnects backed off up
 * to 2 minutes) made a call hang for 20 s and stay slow for as long after Temporal came back.
 * Lazy: no connection attempt until a call, so its process starts without Temporal.
 */
export const lazyTemporalClient = (temporal: TemporalConfig): Client => new Client({
  connection: Connection.lazy({
    ...endpoint(temporal),
    interceptors: [
      deadlineInterceptor(temporal.rpcTimeoutMs),
      // Two quick retries (~50 and ~85 ms later) ride over a frontend restart without holding a call for long.
      makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3, initialIntervalMs: () => 50, maxIntervalMs: () => 200 })),
    ],
    // Reconnect attempts at most 250 ms apart (only while calls are made): the first call after Temporal returns finds the channel up.
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 250 },
  }),
  namespace: temporal.namespace,
});

/**
 * A worker's connection and namespace, to spread into `Worker.create({ ...await connectTemporalWorker(t), taskQueue })`.
 * The caller closes `connection`. The worker package (a native module) is loaded only by processes that run a worker.
 */
export const connectTemporalWorker = async (temporal: TemporalConfig): Promise<{ connection: NativeConnection; namespace: string }> => {
  const { NativeConnection } = await import('@temporalio/worker');
  return { connection: await NativeConnection.connect(endpoint(temporal)), namespace: temporal.namespace };
};
