// The contract for running tenants' bot pods, with two implementations: local child processes
// (stack/local-pod-runtime.ts: `npm start`, tests) and Kubernetes, where a BotTenant per tenant is
// converged into a StatefulSet by the operator (core/kubernetes/pod-runtime.ts). Types only.

/** The tenant a pod is for: its id, and the names a Kubernetes resource is called by. */
export interface PodTenant {
  readonly tenantId: string;
  readonly slug: string;
  readonly displayName: string;
}

/** `running`: the runtime keeps the pod running (restarting it when it dies); not a readiness claim. */
export type PodPhase = 'absent' | 'running';

export interface PodStatus {
  readonly tenantId: string;
  readonly phase: PodPhase;
  /** Where the pod's HTTP port answers (probes; the simulated network), once it has one. */
  readonly url: string | null;
  /** How many times the runtime restarted the pod after it died. */
  readonly restarts: number;
}

export interface PodRuntime {
  /** Runs the tenant's pod if it does not run yet; idempotent. */
  ensurePod(tenant: PodTenant): Promise<PodStatus>;
  /** Stops the tenant's pod; its volume stays. Idempotent. */
  removePod(tenantId: string): Promise<void>;
  /** Asynchronous: a Kubernetes runtime reads the BotTenant's status from the API server. */
  podStatus(tenantId: string): Promise<PodStatus>;
}
