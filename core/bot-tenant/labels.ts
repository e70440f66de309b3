// Names and labels of the objects the operator creates for a tenant: one place, shared by the
// builders, the activities that find them again and the controller that maps events to tenants.

/** The field manager of every server-side apply the platform makes (kubectl shows it in managedFields). */
export const FIELD_MANAGER = 'botinteligente';
export const TENANT_ID_LABEL = 'botinteligente.io/tenant-id';
export const BOT_POD_COMPONENT = 'bot-pod';
/** The shared, non-secret configuration every platform process reads (envFrom). */
export const PLATFORM_CONFIG_MAP = 'botinteligente-config';
/** The bot pods' ServiceAccount: no token mounted, no role bound (pods reach nothing in the API server). */
export const BOT_POD_SERVICE_ACCOUNT = 'bot-pod';
/** The container port of /health/* and the simulator (bot-pods/http.ts). */
export const BOT_POD_HTTP_PORT = 8090;
export const SESSIONS_VOLUME = 'sessions';
export const SESSIONS_MOUNT_PATH = '/data';

/** Every object of a tenant's bot pod: StatefulSet, Service and Secret share it (a DNS label, <= 52 chars for the StatefulSet's pod names). */
export const botPodObjectName = (tenantId: string): string => `bot-${tenantId}`;

/** The labels of every object the operator creates for a tenant (the controller watches by the last one). */
export const tenantObjectLabels = (tenantId: string): Record<string, string> => ({
  'app.kubernetes.io/name': 'botinteligente',
  'app.kubernetes.io/part-of': 'botinteligente',
  'app.kubernetes.io/component': BOT_POD_COMPONENT,
  'app.kubernetes.io/managed-by': 'botinteligente-operator',
  [TENANT_ID_LABEL]: tenantId,
});

/** The StatefulSet's selector: immutable once created, so only what never changes. */
export const botPodSelector = (tenantId: string): Record<string, string> => ({
  'app.kubernetes.io/component': BOT_POD_COMPONENT,
  [TENANT_ID_LABEL]: tenantId,
});

/** Selects every tenant-labelled object the operator manages (the controller's informers). */
export const MANAGED_OBJECTS_SELECTOR = `app.kubernetes.io/managed-by=botinteligente-operator,${TENANT_ID_LABEL}`;
