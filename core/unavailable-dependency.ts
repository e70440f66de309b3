// Recognises "a service this process depends on is not there right now" (Postgres, Temporal, S3)
// wherever it sits in an error's cause chain, so the API can answer 503 with Retry-After instead of
// 500: the request was fine, and the same request will work once the service is back.
export type Dependency = 'the database' | 'Temporal' | 'object storage' | 'Kubernetes' | 'a backing service';

// Slonik's names for "no connection to be had" and "the server went away mid-query".
const DATABASE_ERROR_NAMES = new Set(['ConnectionError', 'BackendTerminatedError', 'BackendTerminatedUnexpectedlyError']);
// SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown, crash, cannot connect now), 53300 (too many connections).
const DATABASE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
// gRPC statuses 14 UNAVAILABLE and 4 DEADLINE_EXCEEDED: the Temporal frontend did not answer.
const GRPC_UNAVAILABLE = new Set([14, 4]);
// The Kubernetes client's ApiException (HTTP status in `code`, the server's answer in `body`): overloaded or failing.
const isKubernetesUnavailable = (link: Link) => typeof link.code === 'number' && 'body' in link && 'headers' in link
  && (link.code === 429 || link.code >= 500);
// Node's socket errors; matched in the message too, where a wrapper kept only that.
const NETWORK_CODE = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE)\b/;

type Link = { name?: unknown; message?: unknown; code?: unknown; details?: unknown; $metadata?: unknown; cause?: unknown };

// Any object counts as a link, not only `instanceof Error`: socket errors may come from another realm.
const causeChain = (error: unknown): Link[] => {
  const chain: Link[] = [];
  for (let current = error; typeof current === 'object' && current !== null && chain.length < 10; current = (current as Link).cause) {
    chain.push(current as Link);
  }
  return chain;
};

const className = (link: Link) => (link as { constructor?: { name?: string } }).constructor?.name ?? '';

export const unavailableDependency = (error: unknown): Dependency | null => {
  const chain = causeChain(error);
  if (chain.some((link) => DATABASE_ERROR_NAMES.has(className(link)) || (typeof link.code === 'string' && DATABASE_SQLSTATE.test(link.code)))) {
    return 'the database';
  }
  if (chain.some((link) => typeof link.code === 'number' && GRPC_UNAVAILABLE.has(link.code) && 'details' in link)) return 'Temporal';
  if (chain.some(isKubernetesUnavailable)) return 'Kubernetes';
  const network = chain.some((link) => (typeof link.code === 'string' && NETWORK_CODE.test(link.code))
    || (typeof link.message === 'string' && NETWORK_CODE.test(link.message)));
  if (!network) return null;
  // The AWS SDK marks its errors with $metadata.
  return chain.some((link) => link.$metadata !== undefined) ? 'object storage' : 'a backing service';
};
