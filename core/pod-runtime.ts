// The contract for running tenants' bot pods. One implementation runs them as local child processes
// (stack/local-pod-runtime.ts: `npm start`, tests, bench); a Kubernetes one will run them as
// StatefulSets behind this same interface. Types only.

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
  ensurePod(tenantId: string): Promise<PodStatus>;
  /** Stops the tenant's pod; its volume stays. Idempotent. */
  removePod(tenantId: string): Promise<void>;
  /** Asynchronous: a Kubernetes runtime reads the BotTenant's status from the API server. */
  podStatus(tenantId: string): Promise<PodStatus>;
}
