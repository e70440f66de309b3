// Every Kubernetes call of the reconcile goes through here: a refusal no retry fixes (invalid
// object, forbidden, ...) fails the activity at once with the API server's own message; a conflict,
// a throttle, a server error or no answer is retried by Temporal.
import { ApplicationFailure } from '@temporalio/common';
import { kubeMessageOf, kubeStatusOf } from '../../core/kubernetes/clients.ts';

const RETRYABLE = new Set([409, 429]);

export class KubernetesCallError extends Error {
  override readonly name = 'KubernetesCallError';
  readonly status: number | null;
  constructor(what: string, status: number | null, message: string, options?: ErrorOptions) {
    super(`${what}: ${status === null ? '' : `${status} `}${message}`, options);
    this.status = status;
  }
}

/**
 * Runs `call`; `what` says which object it touched ("apply StatefulSet bot-<id>"), for the status
 * message. With `ifNotFound`, a 404 answers that value instead (an object already gone is done).
 */
export const kubeCall = async <T, A = T>(what: string, call: () => Promise<T>, options: { ifNotFound?: () => A } = {}): Promise<T | A> => {
  try {
    return await call();
  } catch (error) {
    const status = kubeStatusOf(error);
    if (status === 404 && options.ifNotFound !== undefined) return options.ifNotFound();
    const failure = new KubernetesCallError(what, status, kubeMessageOf(error), { cause: error });
    if (status !== null && status >= 400 && status < 500 && !RETRYABLE.has(status)) {
      throw ApplicationFailure.create({ type: failure.name, message: failure.message, nonRetryable: true });
    }
    throw failure;
  }
};
