// The BotTenant custom resource (k8s/base/crd/bottenants.yaml) as the platform reads it: the API
// server has validated and defaulted the spec already; the parse is the platform's own check.
import { z } from 'zod';

export const BOT_TENANT = {
  group: 'botinteligente.io',
  version: 'v1alpha1',
  plural: 'bottenants',
  kind: 'BotTenant',
  apiVersion: 'botinteligente.io/v1alpha1',
} as const;

/** Blocks deletion until the sessions are snapshotted and the pod is gone. */
export const BOT_TENANT_FINALIZER = 'botinteligente.io/snapshot-sessions';

const quantity = z.string().min(1).max(64);

export const botTenantSpec = z.object({
  tenantId: z.uuid(),
  displayName: z.string().min(1).max(200).optional(),
  storage: z.object({ size: quantity.default('1Gi'), storageClassName: z.string().min(1).max(253).optional() }).default({ size: '1Gi' }),
  // A pod's memory measured idle: 123 MiB on the simulator, 155 MiB on Baileys (docs/bot-pods.md#memory).
  resources: z.object({
    requests: z.object({ cpu: quantity.default('50m'), memory: quantity.default('160Mi') }).default({ cpu: '50m', memory: '160Mi' }),
    limits: z.object({ cpu: quantity.optional(), memory: quantity.default('512Mi') }).default({ memory: '512Mi' }),
  }).default({ requests: { cpu: '50m', memory: '160Mi' }, limits: { memory: '512Mi' } }),
  transport: z.enum(['baileys', 'simulator']).default('baileys'),
  paused: z.boolean().default(false),
  onDelete: z.object({
    snapshot: z.enum(['Required', 'Skip']).default('Required'),
    volume: z.enum(['Retain', 'Delete']).default('Retain'),
  }).default({ snapshot: 'Required', volume: 'Retain' }),
});
export type BotTenantSpec = z.output<typeof botTenantSpec>;

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded'] as const;
export type BotTenantCondition = {
  readonly type: (typeof CONDITION_TYPES)[number];
  readonly status: 'True' | 'False' | 'Unknown';
  /** CamelCase, machine-readable: what `kubectl get` shows in the Reason column. */
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration: number;
};

export type BotTenantStatus = {
  readonly observedGeneration?: number;
  readonly conditions?: readonly BotTenantCondition[];
  readonly connectedBots?: number;
  readonly lastSnapshot?: { readonly key: string; readonly at: string };
};

export type BotTenantResource = {
  readonly apiVersion: typeof BOT_TENANT.apiVersion;
  readonly kind: typeof BOT_TENANT.kind;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly generation: number;
    readonly resourceVersion: string;
    readonly deletionTimestamp?: string;
    readonly finalizers?: readonly string[];
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly spec: BotTenantSpec;
  readonly status?: BotTenantStatus;
};
