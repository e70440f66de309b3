// The one place that reads the environment. Every entry point calls loadConfig() once at start-up
// and passes the result down; nothing else in the code base touches process.env.
import { z } from 'zod';
import { ConfigError } from './errors.ts';

type Variable<T extends z.ZodType> = { schema: T; default: string | undefined; doc: string };

const variable = <T extends z.ZodType>(schema: T, defaultValue: string | undefined, doc: string): Variable<T> => ({
  schema,
  default: defaultValue,
  doc,
});

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' });
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' });
const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as UTC or America/Sao_Paulo');
const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port');

/** Every environment variable the platform reads, with its default and meaning. */
export const variables = {
  LOG_LEVEL: variable(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info', 'pino log level. The API logs a line per request at info; above it, only failed requests.'),

  DATABASE_URL: variable(postgresUrl, 'postgres://bi_app:bi_app_local@127.0.0.1:54329/botinteligente',
    'Application role (`bi_app`): no superuser, no BYPASSRLS, owns nothing; every query runs under RLS.'),
  DATABASE_MAINTENANCE_URL: variable(postgresUrl, 'postgres://bi_maintenance:bi_maintenance_local@127.0.0.1:54329/botinteligente',
    'Maintenance role (`bi_maintenance`, BYPASSRLS): backup, integrity and retention activities only.'),
  DATABASE_MIGRATION_URL: variable(postgresUrl, 'postgres://bi_owner:bi_owner_local@127.0.0.1:54329/botinteligente',
    'Migration owner (`bi_owner`): owns the schema; used only by `npm run migrate`.'),
  DATABASE_TOKEN_ADMIN_URL: variable(postgresUrl.optional(), undefined,
    'Token role (`bi_token_admin`): issues, lists and revokes API tokens, for the API\'s token routes and `npm run token:create` only. Unset: DATABASE_URL\'s server and database as the local stack\'s `bi_token_admin`.'),
  DB_POOL_MAX: variable(positiveInt.max(200), '10', 'Connections per pool (application and maintenance each).'),
  DB_STATEMENT_TIMEOUT_MS: variable(positiveInt, '30000', 'Statement timeout applied to every pooled connection.'),
  DB_CONNECT_TIMEOUT_MS: variable(positiveInt.max(60_000), '1000',
    'Time a new pooled connection gets to be established; past it (or refused at once) the API answers 503 with Retry-After.'),
  TENANT_TX_MAX_ATTEMPTS: variable(positiveInt.max(20), '5',
    'Attempts of a tenant transaction that fails with a serialization failure or deadlock, first one included.'),
  TENANT_TX_RETRY_BASE_MS: variable(positiveInt.max(10_000), '25',
    'Base delay of the jittered exponential backoff between those attempts.'),

  TEMPORAL_ADDRESS: variable(hostPort, '127.0.0.1:7233', 'Temporal frontend gRPC address.'),
  TEMPORAL_NAMESPACE: variable(z.string().min(1), 'default', 'Temporal namespace.'),
  TEMPORAL_TASK_QUEUE: variable(z.string().min(1), 'platform', 'Task queue of the platform worker.'),
  TEMPORAL_RPC_TIMEOUT_MS: variable(positiveInt.max(60_000), '2000',
    'Deadline of each call the API makes to Temporal (long polls for a result excepted); past it the API answers 503 with Retry-After.'),
  TEMPORAL_TLS: variable(z.stringbool().optional(), undefined,
    'Connect to Temporal over TLS. Unset: on when TEMPORAL_API_KEY or any TEMPORAL_TLS_* file or name is set, off otherwise (the local dev server).'),
  TEMPORAL_TLS_CA_FILE: variable(z.string().min(1).optional(), undefined,
    'PEM file of the CA that signed the Temporal server\'s certificate. Unset: the system\'s trusted roots (Temporal Cloud).'),
  TEMPORAL_TLS_CERT_FILE: variable(z.string().min(1).optional(), undefined,
    'PEM file of this process\'s client certificate, for mutual TLS (with TEMPORAL_TLS_KEY_FILE).'),
  TEMPORAL_TLS_KEY_FILE: variable(z.string().min(1).optional(), undefined,
    'PEM file of the private key of TEMPORAL_TLS_CERT_FILE.'),
  TEMPORAL_TLS_SERVER_NAME: variable(z.string().min(1).optional(), undefined,
    'Server name checked against the Temporal server\'s certificate (SNI), when it differs from TEMPORAL_ADDRESS\'s host.'),
  TEMPORAL_API_KEY: variable(z.string().min(1).optional(), undefined,
    'API key sent as `Authorization: Bearer <key>` on every call to Temporal (Temporal Cloud API-key authentication).'),

  LEAD_IDLE_TIMEOUT_SECONDS: variable(positiveInt.max(86_400), '600',
    'A lead conversation workflow ends after this long without a message; the next message starts a new one.'),
  OWNER_WEBHOOK_TIMEOUT_MS: variable(positiveInt.max(60_000), '10000',
    'Timeout of one owner webhook POST; a failed or slow delivery is retried by Temporal with backoff.'),
  OWNER_WEBHOOK_ALLOW_PRIVATE_NETWORKS: variable(z.stringbool(), 'false',
    'Let owner webhooks reach private, loopback and link-local addresses. Off in production: webhook URLs come from tenants (SSRF).'),
  CHAT_COMPOSER_URL: variable(httpUrl.optional(), undefined,
    'Base URL of an OpenAI-compatible chat API (`<url>/chat/completions`). Unset: replies come from templates only.'),
  CHAT_COMPOSER_API_KEY: variable(z.string().min(1).optional(), undefined, 'Bearer token for the chat API, if it needs one.'),
  CHAT_COMPOSER_MODEL: variable(z.string().min(1).max(200), 'gpt-4o-mini', 'Model name sent to the chat API.'),
  CHAT_COMPOSER_TIMEOUT_MS: variable(positiveInt.max(60_000), '8000',
    'Time the chat API gets for one reply; after it (or any error) the template reply is sent instead.'),
  SCORING_THREADS: variable(positiveInt.max(64), '2',
    'Worker threads that score inbound messages, off the thread that runs every tenant\'s workflow and activity tasks; one tenant uses one at a time.'),
  SCORING_MAX_CHARS: variable(positiveInt.max(1_000_000), '4096', 'Characters of an inbound message that are scored (its beginning); the whole message is stored.'),
  SCORING_TIME_BUDGET_MS: variable(positiveInt.max(60_000), '250',
    'Time one message\'s scoring may take; past it the scoring thread is stopped and the message scores 0 (`scoringTimedOut` in the ingest result).'),

  S3_ENDPOINT: variable(httpUrl, 'http://127.0.0.1:8333',
    'S3 API endpoint. Cloudflare R2: `https://<account>.r2.cloudflarestorage.com`.'),
  S3_REGION: variable(z.string().min(1), 'us-east-1', 'S3 region. Cloudflare R2: `auto`.'),
  S3_BUCKET: variable(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name'), 'botinteligente',
    'Bucket for backups, session snapshots and product images.'),
  S3_ACCESS_KEY_ID: variable(z.string().min(1), 'bi-local-access', 'S3 access key id.'),
  S3_SECRET_ACCESS_KEY: variable(z.string().min(8), 'bi-local-secret-key', 'S3 secret access key.'),
  S3_FORCE_PATH_STYLE: variable(z.stringbool(), 'true', 'Path-style bucket addressing (needed by R2 and SeaweedFS).'),

  ENCRYPTION_KEYS: variable(z.string().min(1).optional(), undefined,
    'Encryption keys for backups and session snapshots: `<id>:<base64 of 32 bytes>`, comma-separated. Added to those of ENCRYPTION_KEYS_FILE.'),
  ENCRYPTION_KEYS_FILE: variable(z.string().min(1), '.stack/encryption-keys',
    'File of encryption keys, one `<id>:<base64>` per line (the local stack creates one on first start).'),
  ENCRYPTION_ACTIVE_KEY_ID: variable(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(), undefined,
    'Key id new objects are encrypted with (default: the last key listed). Older keys stay for reading: rotation.'),

  BACKUP_TIME: variable(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)'), '03:00',
    'Local time of the nightly backup (Schedule `backup-nightly`).'),
  BACKUP_TIMEZONE: variable(timeZone, 'UTC', 'IANA time zone of BACKUP_TIME and RESTORE_DRILL_TIME.'),
  BACKUP_COMPRESSION: variable(z.enum(['zstd', 'gzip']), 'zstd', 'Compression of the database dump before encryption.'),
  BACKUP_COMPRESSION_LEVEL: variable(z.coerce.number().int().min(1).max(19).optional(), undefined,
    'Compression level (zstd 1–19, gzip 1–9). Default: zstd 1 (level 3 stores 11% less but fell behind pg_dump on busy cores, see docs/backups.md), gzip 6.'),
  BACKUP_RETENTION_DAYS: variable(positiveInt.max(3650), '30', 'Every backup of the last N days is kept.'),
  BACKUP_RETENTION_WEEKS: variable(z.coerce.number().int().min(0).max(520), '8', 'Plus the newest backup of each of the last K ISO weeks.'),
  BACKUP_RETENTION_MONTHS: variable(z.coerce.number().int().min(0).max(240), '12', 'Plus the newest backup of each of the last K months.'),
  BACKUP_SCHEDULES_ENABLED: variable(z.stringbool(), 'true',
    'The platform worker creates (or updates) the Schedules `backup-nightly` and `restore-drill-weekly` at start.'),
  BACKUP_SESSIONS_TIMEOUT_SECONDS: variable(positiveInt.max(86_400), '600',
    'Time a tenant\'s bot pod gets to snapshot its sessions during a backup; a pod that does not answer is reported in the manifest.'),
  PG_BIN_DIR: variable(z.string().min(1), '.tools/bin',
    'Directory of `pg_dump` and `pg_restore` (same major version as the server, or newer).'),
  BACKUP_RESTORE_TEMPLATE: variable(z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/), 'bi_restore_template',
    'Template database of every restore target: empty, with the amcheck extension (schema `amcheck`) the drill needs.'),
  RESTORE_DRILL_TIME: variable(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)'), '05:00',
    'Local time of the weekly restore drill (Schedule `restore-drill-weekly`).'),
  RESTORE_DRILL_WEEKDAY: variable(z.enum(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY']), 'SUNDAY',
    'Day of the weekly restore drill.'),
  INTEGRITY_SCHEDULE_ENABLED: variable(z.stringbool(), 'true',
    'The platform worker creates (or updates) the Schedule `integrity-hourly` at start (see docs/data-integrity.md).'),
  INTEGRITY_APPROVAL_TIMEOUT_SECONDS: variable(positiveInt.max(30 * 86_400), '86400',
    'How long a planned fix of class `approval` waits for its approval; then it expires and is never applied.'),
  INTEGRITY_GRACE_SECONDS: variable(z.coerce.number().int().min(0).max(86_400), '900',
    'The storage and workflow checks leave objects modified, and lead workflows started, this recently for the next run: their rows may be committed after the run\'s snapshot.'),
  INTEGRITY_ALERT_WEBHOOK_URL: variable(httpUrl.optional(), undefined,
    'Where each new critical integrity finding is also POSTed, signed like owner webhooks (see docs/data-integrity.md). Unset: no webhook.'),
  INTEGRITY_ALERT_WEBHOOK_SECRET: variable(z.string().min(24).optional(), undefined,
    'Signing secret of INTEGRITY_ALERT_WEBHOOK_URL. Or leave it unset and name a keyring key in INTEGRITY_ALERT_WEBHOOK_KEYRING_KEY_ID.'),
  INTEGRITY_ALERT_WEBHOOK_KEYRING_KEY_ID: variable(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(), undefined,
    'Id of an encryption key (ENCRYPTION_KEYS / ENCRYPTION_KEYS_FILE) whose base64 text is the signing secret of INTEGRITY_ALERT_WEBHOOK_URL.'),
  RETENTION_SCHEDULE_ENABLED: variable(z.stringbool(), 'true',
    'The platform worker creates (or updates) the Schedule `retention-daily` at start (see docs/data-retention.md).'),
  RETENTION_TIME: variable(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)'), '04:00',
    'Time of day (UTC) of the daily retention run (Schedule `retention-daily`).'),
  RETENTION_BATCH_SIZE: variable(positiveInt.max(10_000), '500',
    'Messages, and leads, that one retention batch deletes in one short transaction.'),
  OPERATIONAL_LOG_RETENTION_DAYS: variable(positiveInt.max(3650), '90',
    'The daily retention deletes bot connection events and owner webhook delivery attempts older than N days, on every tenant.'),
  SCHEDULES_RECONCILE_ENABLED: variable(z.stringbool(), 'true',
    'The platform worker creates (or updates) the Schedule `schedules-reconcile-daily`, which repairs drift between tenant schedules and Temporal (see docs/schedules.md).'),
  SCHEDULE_FOLLOW_UP_RATE_PER_MINUTE: variable(positiveInt.max(600), '20',
    'WhatsApp follow-ups a schedule sends per minute through one bot\'s number, unless the schedule sets its own rate (bulk sending gets numbers banned).'),
  SCHEDULE_FOLLOW_UP_MAX_RATE_PER_MINUTE: variable(positiveInt.max(600), '60',
    'The highest rate a schedule may set; checked on write, and a firing never sends faster.'),
  SCHEDULE_FOLLOW_UP_SEND_TIMEOUT_SECONDS: variable(positiveInt.max(3600), '300',
    'A follow-up the bot pod has not sent within this long (pod down, bot not connected) fails the firing; the leads not reached stay for the next firing.'),

  API_PORT: variable(port, '8080', 'Port of the admin REST API.'),
  API_HOST: variable(z.string().min(1), '127.0.0.1', 'Address the API listens on (0.0.0.0 in a container).'),
  API_BODY_LIMIT_BYTES: variable(positiveInt.max(10 * 1024 * 1024), '102400', 'Largest JSON request body the API reads.'),
  API_UPLOADS_MAX_CONCURRENT: variable(positiveInt.max(1_000), '4',
    'Image uploads (bodies up to ~14 MB) the API reads at once; one more is refused with 503 and Retry-After.'),
  API_EVENT_STREAMS_PER_TOKEN: variable(positiveInt.max(10_000), '5', 'Open `GET /events` streams per API token; one more is refused with 429.'),
  API_RATE_LIMIT_WINDOW_SECONDS: variable(positiveInt.max(86_400), '900', 'Rate limit window of the API.'),
  API_RATE_LIMIT_PER_IP: variable(positiveInt, '100', 'Requests per window and client address.'),
  API_RATE_LIMIT_PER_TOKEN: variable(positiveInt, '1000', 'Requests per window and API token.'),
  API_LOCKOUT_MAX_SECONDS: variable(positiveInt.max(7 * 86_400), '86400',
    'Longest lockout of a client that keeps exceeding the rate limit (lockouts double from two windows).'),
  API_UNSUBSCRIBE_RATE_LIMIT_PER_IP: variable(positiveInt, '1000',
    'Requests per window and client address to the public unsubscribe links. Higher than API_RATE_LIMIT_PER_IP: one-click unsubscribes come from the mailbox providers\' servers, many recipients from one address.'),
  API_RATE_LIMIT_SCOPE: variable(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), 'api',
    'Rate-limit counters and lockouts are kept in the database under this name: API replicas with the same scope share them.'),
  PUBLIC_API_URL: variable(httpUrl.optional(), undefined,
    'The API\'s address as the public reaches it (e.g. `https://api.example.com`): the base of the unsubscribe links in sent mail. Unset: `http://127.0.0.1:<API_PORT>`.'),
  API_TRUST_PROXY: variable(z.string().min(1).optional(), undefined,
    'Express `trust proxy` setting (e.g. `1` behind one ingress) so the client address is the real one; unset: the socket address.'),

  BOT_POD_TENANT_ID: variable(z.uuid().optional(), undefined, 'Bot pod only: the one tenant whose bots this pod runs (required there).'),
  BOT_POD_DATA_DIR: variable(z.string().min(1), '.stack/bot-pod',
    'Bot pod only: its persistent volume (WhatsApp sessions, inbound outbox, sent-log).'),
  BOT_POD_TRANSPORT: variable(z.enum(['baileys', 'simulator']), 'baileys',
    'Bot pod only: `baileys` talks to WhatsApp; `simulator` takes inbound messages over HTTP (demo, tests, benchmarks).'),
  BOT_POD_HTTP_PORT: variable(port, '8090', 'Bot pod only: port of /health/live, /health/ready and, with the simulator, /simulator/*.'),
  BOT_POD_HTTP_HOST: variable(z.string().min(1), '127.0.0.1', 'Bot pod only: address the HTTP port listens on (0.0.0.0 in a container).'),
  BOT_POD_IGNORE_GROUPS: variable(z.stringbool(), 'true', 'Bot pod only: ignore messages from WhatsApp groups.'),
  BOT_POD_RECONNECT_MAX_MS: variable(positiveInt.max(600_000), '60000',
    'Bot pod only: ceiling of the jittered exponential backoff between WhatsApp reconnects.'),

  POD_RUNTIME: variable(z.enum(['local', 'kubernetes']), 'local',
    'Who runs the tenants\' bot pods: `local` child processes of `npm start`, or `kubernetes` (a BotTenant per tenant, converged by `npm run operator`).'),
  KUBE_CONFIG_FILE: variable(z.string().min(1).optional(), undefined,
    'Kubernetes only: a kubeconfig file. Unset: the in-cluster ServiceAccount (the usual case in a pod).'),
  KUBE_NAMESPACE: variable(z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name'), 'botinteligente',
    'Kubernetes only: the namespace of the BotTenants and the tenants\' bot pods.'),
  OPERATOR_TASK_QUEUE: variable(z.string().min(1), 'operator',
    'Task queue of the operator process: the Kubernetes activities of the tenant reconcile (only the operator holds Kubernetes credentials).'),
  BOT_POD_IMAGE: variable(z.string().min(1), 'botinteligente:latest', 'Operator only: the container image of the bot pods it creates.'),
  BOT_POD_SECRET_NAME: variable(z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Kubernetes object name'), 'botinteligente-bot-pod',
    'Operator only: the platform Secret holding the bot pods\' sensitive variables (S3 keys, encryption keys, Temporal API key); each tenant gets its own copy of it, database variables left out.'),

  SMTP_HOST: variable(z.string().min(1), '127.0.0.1',
    'The platform\'s SMTP server for email sequences (the local stack runs mailpit here); a tenant with its own SMTP settings sends through those instead.'),
  SMTP_PORT: variable(port, '1025', 'Port of SMTP_HOST (mailpit\'s SMTP port in the local stack).'),
  SMTP_FROM: variable(z.email(), 'no-reply@botinteligente.local',
    'Sender address of email sequences sent through SMTP_HOST; its domain is the right-hand side of their Message-IDs.'),

  STACK_DIR: variable(z.string().min(1), '.stack',
    'Local stack only: data directory for Postgres, Temporal (SQLite) and the S3 server, relative to the repository.'),
  STACK_TOOLS_DIR: variable(z.string().min(1), '.tools', 'Local stack only: where `scripts/setup.sh` installed the tools.'),
  STACK_TEMPORAL_UI_PORT: variable(port, '8233', 'Local stack only: Temporal UI port.'),
  STACK_TEMPORAL_METRICS_PORT: variable(port, '8234', 'Local stack only: the Temporal dev server\'s Prometheus `/metrics` port.'),
  STACK_MAILPIT_HTTP_PORT: variable(port, '8025', 'Local stack only: mailpit\'s HTTP API (and UI) port, on SMTP_HOST; see the mail the platform sent.'),
  STACK_KUBE_APISERVER_PORT: variable(port, '16443', 'Tests only: port of the kube-apiserver the test harness starts.'),
  STACK_ETCD_PORT: variable(port, '23790', 'Tests only: client port of the etcd behind it (the next two ports: peer and metrics).'),
} as const;

/** The local stack's token role, on the application's server and database unless configured. */
const LOCAL_TOKEN_ADMIN = { name: 'bi_token_admin', password: 'bi_token_admin_local' };
const withRole = (url: string, role: { name: string; password: string }) => {
  const parsed = new URL(url);
  parsed.username = role.name;
  parsed.password = role.password;
  return parsed.toString();
};

type Variables = typeof variables;
export type Env = Record<string, string | undefined>;
type RawConfig = { [K in keyof Variables]: z.output<Variables[K]['schema']> };

/** TLS when asked for, or by default when anything TLS-only is set (an API key travels over TLS only). */
const temporalTls = (raw: RawConfig) => {
  const tlsOnly = [raw.TEMPORAL_API_KEY, raw.TEMPORAL_TLS_CA_FILE, raw.TEMPORAL_TLS_CERT_FILE, raw.TEMPORAL_TLS_SERVER_NAME];
  if (!(raw.TEMPORAL_TLS ?? tlsOnly.some((value) => value !== undefined))) return null;
  return {
    caFile: raw.TEMPORAL_TLS_CA_FILE ?? null,
    clientCertFile: raw.TEMPORAL_TLS_CERT_FILE ?? null,
    clientKeyFile: raw.TEMPORAL_TLS_KEY_FILE ?? null,
    serverName: raw.TEMPORAL_TLS_SERVER_NAME ?? null,
  };
};

const toConfig = (raw: RawConfig) => ({
  logLevel: raw.LOG_LEVEL,
  database: {
    appUrl: raw.DATABASE_URL,
    maintenanceUrl: raw.DATABASE_MAINTENANCE_URL,
    migrationUrl: raw.DATABASE_MIGRATION_URL,
    tokenAdminUrl: raw.DATABASE_TOKEN_ADMIN_URL ?? withRole(raw.DATABASE_URL, LOCAL_TOKEN_ADMIN),
    poolMax: raw.DB_POOL_MAX,
    statementTimeoutMs: raw.DB_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: raw.DB_CONNECT_TIMEOUT_MS,
    tenantTxMaxAttempts: raw.TENANT_TX_MAX_ATTEMPTS,
    tenantTxRetryBaseMs: raw.TENANT_TX_RETRY_BASE_MS,
  },
  temporal: {
    address: raw.TEMPORAL_ADDRESS,
    namespace: raw.TEMPORAL_NAMESPACE,
    taskQueue: raw.TEMPORAL_TASK_QUEUE,
    rpcTimeoutMs: raw.TEMPORAL_RPC_TIMEOUT_MS,
    tls: temporalTls(raw),
    apiKey: raw.TEMPORAL_API_KEY ?? null,
  },
  conversation: {
    idleTimeoutSeconds: raw.LEAD_IDLE_TIMEOUT_SECONDS,
    ownerWebhookTimeoutMs: raw.OWNER_WEBHOOK_TIMEOUT_MS,
    ownerWebhookAllowPrivateNetworks: raw.OWNER_WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    scoring: { threads: raw.SCORING_THREADS, maxChars: raw.SCORING_MAX_CHARS, timeBudgetMs: raw.SCORING_TIME_BUDGET_MS },
    chatComposer: raw.CHAT_COMPOSER_URL === undefined ? null : {
      url: raw.CHAT_COMPOSER_URL,
      apiKey: raw.CHAT_COMPOSER_API_KEY ?? null,
      model: raw.CHAT_COMPOSER_MODEL,
      timeoutMs: raw.CHAT_COMPOSER_TIMEOUT_MS,
    },
  },
  s3: {
    endpoint: raw.S3_ENDPOINT,
    region: raw.S3_REGION,
    bucket: raw.S3_BUCKET,
    accessKeyId: raw.S3_ACCESS_KEY_ID,
    secretAccessKey: raw.S3_SECRET_ACCESS_KEY,
    forcePathStyle: raw.S3_FORCE_PATH_STYLE,
  },
  api: {
    port: raw.API_PORT,
    host: raw.API_HOST,
    bodyLimitBytes: raw.API_BODY_LIMIT_BYTES,
    uploadsMaxConcurrent: raw.API_UPLOADS_MAX_CONCURRENT,
    eventStreamsPerToken: raw.API_EVENT_STREAMS_PER_TOKEN,
    rateLimit: {
      windowSeconds: raw.API_RATE_LIMIT_WINDOW_SECONDS, perIp: raw.API_RATE_LIMIT_PER_IP, perToken: raw.API_RATE_LIMIT_PER_TOKEN,
      lockoutMaxSeconds: raw.API_LOCKOUT_MAX_SECONDS, scope: raw.API_RATE_LIMIT_SCOPE, unsubscribePerIp: raw.API_UNSUBSCRIBE_RATE_LIMIT_PER_IP,
    },
    trustProxy: raw.API_TRUST_PROXY ?? null,
    publicUrl: (raw.PUBLIC_API_URL ?? `http://127.0.0.1:${raw.API_PORT}`).replace(/\/+$/, ''),
  },
  backup: {
    time: raw.BACKUP_TIME,
    timeZone: raw.BACKUP_TIMEZONE,
    compression: raw.BACKUP_COMPRESSION,
    compressionLevel: raw.BACKUP_COMPRESSION_LEVEL ?? (raw.BACKUP_COMPRESSION === 'zstd' ? 1 : 6),
    retention: { keepDays: raw.BACKUP_RETENTION_DAYS, keepWeekly: raw.BACKUP_RETENTION_WEEKS, keepMonthly: raw.BACKUP_RETENTION_MONTHS },
    schedulesEnabled: raw.BACKUP_SCHEDULES_ENABLED,
    sessionsTimeoutSeconds: raw.BACKUP_SESSIONS_TIMEOUT_SECONDS,
    restoreTemplate: raw.BACKUP_RESTORE_TEMPLATE,
    pgBinDir: raw.PG_BIN_DIR,
    drillTime: raw.RESTORE_DRILL_TIME,
    drillWeekday: raw.RESTORE_DRILL_WEEKDAY,
  },
  integrity: {
    scheduleEnabled: raw.INTEGRITY_SCHEDULE_ENABLED,
    approvalTimeoutMs: raw.INTEGRITY_APPROVAL_TIMEOUT_SECONDS * 1000,
    graceSeconds: raw.INTEGRITY_GRACE_SECONDS,
    alertWebhook: raw.INTEGRITY_ALERT_WEBHOOK_URL === undefined ? null : {
      url: raw.INTEGRITY_ALERT_WEBHOOK_URL,
      secret: raw.INTEGRITY_ALERT_WEBHOOK_SECRET ?? null,
      secretKeyId: raw.INTEGRITY_ALERT_WEBHOOK_KEYRING_KEY_ID ?? null,
    },
  },
  retention: {
    scheduleEnabled: raw.RETENTION_SCHEDULE_ENABLED, time: raw.RETENTION_TIME, batchSize: raw.RETENTION_BATCH_SIZE,
    operationalLogDays: raw.OPERATIONAL_LOG_RETENTION_DAYS,
  },
  schedules: {
    reconcileEnabled: raw.SCHEDULES_RECONCILE_ENABLED,
    followUp: {
      ratePerMinute: raw.SCHEDULE_FOLLOW_UP_RATE_PER_MINUTE,
      maxRatePerMinute: raw.SCHEDULE_FOLLOW_UP_MAX_RATE_PER_MINUTE,
      sendTimeoutSeconds: raw.SCHEDULE_FOLLOW_UP_SEND_TIMEOUT_SECONDS,
    },
  },
  encryption: {
    keys: raw.ENCRYPTION_KEYS ?? null,
    keysFile: raw.ENCRYPTION_KEYS_FILE,
    activeKeyId: raw.ENCRYPTION_ACTIVE_KEY_ID ?? null,
  },
  botPod: {
    tenantId: raw.BOT_POD_TENANT_ID ?? null,
    dataDir: raw.BOT_POD_DATA_DIR,
    transport: raw.BOT_POD_TRANSPORT,
    httpPort: raw.BOT_POD_HTTP_PORT,
    httpHost: raw.BOT_POD_HTTP_HOST,
    ignoreGroups: raw.BOT_POD_IGNORE_GROUPS,
    reconnectMaxMs: raw.BOT_POD_RECONNECT_MAX_MS,
  },
  pods: {
    runtime: raw.POD_RUNTIME,
  },
  kubernetes: {
    configFile: raw.KUBE_CONFIG_FILE ?? null,
    namespace: raw.KUBE_NAMESPACE,
  },
  operator: {
    taskQueue: raw.OPERATOR_TASK_QUEUE,
    botPodImage: raw.BOT_POD_IMAGE,
    botPodSecretName: raw.BOT_POD_SECRET_NAME,
  },
  email: {
    smtp: { host: raw.SMTP_HOST, port: raw.SMTP_PORT },
    from: raw.SMTP_FROM,
  },
  stack: {
    dir: raw.STACK_DIR,
    toolsDir: raw.STACK_TOOLS_DIR,
    temporalUiPort: raw.STACK_TEMPORAL_UI_PORT,
    temporalMetricsPort: raw.STACK_TEMPORAL_METRICS_PORT,
    mailpitHttpPort: raw.STACK_MAILPIT_HTTP_PORT,
    kubeApiserverPort: raw.STACK_KUBE_APISERVER_PORT,
    etcdPort: raw.STACK_ETCD_PORT,
  },
});

export type Config = ReturnType<typeof toConfig>;

/** Parses the given environment; an invalid value throws a ConfigError naming every bad variable. */
export const parseConfig = (env: Env): Config => {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(variables)) {
    const value = env[name] === undefined || env[name] === '' ? spec.default : env[name];
    const result = spec.schema.safeParse(value);
    if (result.success) raw[name] = result.data;
    else problems.push(`${name}: ${result.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  if ((raw.TEMPORAL_TLS_CERT_FILE === undefined) !== (raw.TEMPORAL_TLS_KEY_FILE === undefined)) {
    problems.push('TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE: set both (mutual TLS) or neither');
  }
  if (raw.INTEGRITY_ALERT_WEBHOOK_URL !== undefined && (raw.INTEGRITY_ALERT_WEBHOOK_SECRET === undefined) === (raw.INTEGRITY_ALERT_WEBHOOK_KEYRING_KEY_ID === undefined)) {
    problems.push('INTEGRITY_ALERT_WEBHOOK_SECRET, INTEGRITY_ALERT_WEBHOOK_KEYRING_KEY_ID: with INTEGRITY_ALERT_WEBHOOK_URL, set exactly one');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(toConfig(raw as RawConfig));
};

/** Reads process.env once; the only access to process.env in the code base. */
export const loadConfig = (): Config => parseConfig(process.env);

/** Same, for entry points: a bad value prints the variables at fault and exits with status 78 (EX_CONFIG). */
export const loadConfigOrExit = (): Config => {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
};
