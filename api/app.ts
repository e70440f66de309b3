// The admin API: `createApp(deps)` builds it (tests and the entry point use the same factory) and
// `start`/`stop` own the listening socket.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { sql } from 'slonik';
import { authenticate, createAuthCache } from './auth.ts';
import { createBodyReaders, IMAGE_UPLOAD_PATH } from './body-readers.ts';
import type { ApiDeps } from './deps.ts';
import { docsPage } from './docs-page.ts';
import { eventStream } from './events.ts';
import { createLockouts } from './lockout.ts';
import { createMetrics } from './metrics.ts';
import { createHitCounter } from './rate-limit/hit-counter.ts';
import { createPostgresRateLimitStore } from './rate-limit/postgres-store.ts';
import { openApiDocument } from './openapi.ts';
import { answerClientError } from './client-error.ts';
import { HttpProblem, problemHandler, sendProblem } from './problem.ts';
import { createRegistry } from './route.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerBackupRoutes } from './routes/backups.ts';
import { registerBotArchiveRoutes } from './routes/bot-archive.ts';
import { registerBotDeleteRoutes } from './routes/bot-delete.ts';
import { registerBotRoutes } from './routes/bots.ts';
import { registerBotSessionRoutes } from './routes/bot-sessions.ts';
import { registerCatalogImageRoutes } from './routes/catalog-images.ts';
import { registerCatalogRoutes } from './routes/catalog.ts';
import { registerDataIntegrityRoutes } from './routes/data-integrity.ts';
import { registerDataRetentionRoutes } from './routes/data-retention.ts';
import { registerDataSubjectRoutes } from './routes/data-subject.ts';
import { registerDeadLetterRoutes } from './routes/dead-letters.ts';
import { registerEmailDeliveryRoutes } from './routes/email-sequences-deliveries.ts';
import { registerEmailSettingsRoutes } from './routes/email-sequences-settings.ts';
import { registerEmailSuppressionRoutes } from './routes/email-sequences-suppressions.ts';
import { registerEmailSequenceRoutes } from './routes/email-sequences.ts';
import { registerLeadChangeRoutes } from './routes/leads-changes.ts';
import { registerLeadConversationRoutes } from './routes/lead-conversation.ts';
import { registerLeadRoutes } from './routes/leads.ts';
import { registerOwnerWebhookRoutes } from './routes/owner-webhooks.ts';
import { registerPipelineRoutes } from './routes/pipelines.ts';
import { registerScheduleRoutes } from './routes/schedules.ts';
import { registerTenantDeleteRoutes } from './routes/tenant-delete.ts';
import { registerTenantRoutes } from './routes/tenants.ts';
import { registerTokenRoutes } from './routes/tokens.ts';
import { registerUserRoutes } from './routes/users.ts';
import { registerWorkflowRoutes } from './routes/workflows.ts';
import { UNSUBSCRIBE_PATH, unsubscribeOpenApiPaths, unsubscribeRouter, withoutUnsubscribeToken } from './unsubscribe.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

const requestId: RequestHandler = (request, response, next) => {
  const given = request.get('x-request-id');
  request.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
  response.set('X-Request-Id', request.requestId);
  next();
};

export const createApp = (deps: ApiDeps) => {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  if (config.api.trustProxy) app.set('trust proxy', /^\d+$/.test(config.api.trustProxy) ? Number(config.api.trustProxy) : config.api.trustProxy);
  app.use(helmet());
  app.use(requestId);
  const metrics = createMetrics();
  app.use(metrics.observe);
  // A request line is logged at info. With info off (LOG_LEVEL warn or higher), pino-http would still
  // serialize and redact every request into a child logger that writes nothing; problemHandler logs failures.
  if (logger.isLevelEnabled('info')) {
    app.use(pinoHttp({
      logger,
      genReqId: (request) => (request as express.Request).requestId,
      // Tokens never reach the logs; bodies (personal data) are not logged at all.
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
      serializers: { req: withoutUnsubscribeToken },
    }));
  }

  app.get('/metrics', metrics.expose);
  app.get('/health/live', (_request, response) => { response.json({ status: 'live' }); });
  app.get('/health/ready', async (_request, response) => {
    const [database, temporal] = await Promise.all([
      deps.pools.app.oneFirst(sql.unsafe`SELECT true`).then(() => true, () => false),
      deps.temporalHealthy().catch(() => false),
    ]);
    response.status(database && temporal ? 200 : 503).json({ database, temporal });
  });

  const authCache = createAuthCache();
  const bodies = createBodyReaders(config.api);
  const router = express.Router();
  const registry = createRegistry(router);
  registerTenantRoutes(registry, deps);
  registerTenantDeleteRoutes(registry, deps, metrics);
  registerBotRoutes(registry, deps);
  registerBotSessionRoutes(registry, deps);
  registerLeadConversationRoutes(registry, deps);
  registerLeadRoutes(registry, deps);
  registerLeadChangeRoutes(registry, deps);
  registerDeadLetterRoutes(registry, deps);
  registerDataRetentionRoutes(registry, deps);
  registerDataSubjectRoutes(registry, deps, metrics);
  registerPipelineRoutes(registry, deps);
  registerCatalogRoutes(registry, deps);
  registerCatalogImageRoutes(registry, deps);
  registerUserRoutes(registry, deps);
  registerScheduleRoutes(registry, deps);
  registerTokenRoutes(registry, deps, authCache);
  registerWorkflowRoutes(registry, deps, metrics);
  registerBackupRoutes(registry, deps, metrics);
  registerDataIntegrityRoutes(registry, deps, metrics);
  registerEmailSequenceRoutes(registry, deps, metrics);
  registerEmailSettingsRoutes(registry, deps);
  registerEmailSuppressionRoutes(registry, deps);
  registerEmailDeliveryRoutes(registry, deps);
  registerAuditRoutes(registry, deps);
  registerBotArchiveRoutes(registry, deps);
  registerBotDeleteRoutes(registry, deps);
  registerOwnerWebhookRoutes(registry, deps);
  const document = openApiDocument(registry, unsubscribeOpenApiPaths);

  const { windowSeconds, lockoutMaxSeconds, scope } = config.api.rateLimit;
  // Counters and lockouts live in the database, shared by every replica of this scope.
  const lockouts = createLockouts(deps.pools.app, { windowMs: windowSeconds * 1000, maxMs: lockoutMaxSeconds * 1000, scope });
  // Every limiter's hits share statements (a request's address and token hits, and other requests').
  const countHit = createHitCounter(deps.pools.app);
  // IPv6 clients are grouped by /56, as express-rate-limit advises: one host has many addresses.
  const clientAddress = (request: express.Request) => `ip:${ipKeyGenerator(request.ip ?? 'unknown')}`;
  const limit = (name: string, max: number, key: (request: express.Request) => string) => rateLimit({
    windowMs: config.api.rateLimit.windowSeconds * 1000,
    limit: max,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: key,
    store: createPostgresRateLimitStore(deps.pools.app, `${scope}:${name}:`, lockouts.keyOf, Date.now, countHit),
    handler: async (request, response) => {
      // Refused while locked out (through any replica): the lockout's end, and no new strike.
      const lockedMs = await lockouts.remainingMs(key(request));
      if (lockedMs > 0) {
        response.set('Retry-After', String(Math.ceil(lockedMs / 1000)));
        sendProblem(response, new HttpProblem(429, 'Locked out', `too many requests over the limit; retry in ${Math.ceil(lockedMs / 1000)} s`), request.originalUrl);
        return;
      }
      metrics.rateLimited.inc({ limit: name });
      // The refusal starts a lockout longer than the window: Retry-After says when it ends.
      response.set('Retry-After', String(Math.ceil(await lockouts.strike(key(request)) / 1000)));
      sendProblem(response, new HttpProblem(429, 'Too many requests',
      `the limit is ${max} requests per ${config.api.rateLimit.windowSeconds} s; retry after the time in Retry-After`), request.originalUrl);
    },
  });

  app.get('/api/v1/openapi.json', (_request, response) => { response.json(document); });
  const page = docsPage(document as never);
  app.get('/api/v1/docs', (_request, response) => { response.type('html').send(page); });
  // Public: the link in a sent mail carries its own signed token. Limited per client address.
  app.use(UNSUBSCRIBE_PATH, limit('unsubscribe', config.api.rateLimit.unsubscribePerIp, (request) => clientAddress(request)), unsubscribeRouter(deps));
  app.use('/api/v1',
    limit('ip', config.api.rateLimit.perIp, (request) => clientAddress(request)),
    authenticate(deps.pools.app, authCache),
    limit('token', config.api.rateLimit.perToken, (request) => `token:${request.principal!.tokenId}`));
  // Bodies only now, authenticated: the image upload route with room for its size, every other the configured limit.
  app.post(`/api/v1${IMAGE_UPLOAD_PATH}`, ...bodies.imageUpload);
  app.use('/api/v1', ...bodies.general);
  app.get('/api/v1/events', eventStream(deps));
  app.use('/api/v1', router);
  // A known path with a method it does not have: 405 and the methods it does have.
  const knownPaths = [...new Set(registry.specs.map((spec) => spec.path))].map((path) => ({
    pattern: new RegExp(`^/api/v1${path.replace(/:\w+/g, '[^/]+')}/?$`),
    methods: registry.specs.filter((spec) => spec.path === path).map((spec) => spec.method.toUpperCase()),
  }));
  app.use((request, response, next) => {
    const known = knownPaths.find(({ pattern }) => pattern.test(request.path));
    if (!known) return next();
    response.set('Allow', known.methods.join(', '));
    sendProblem(response, new HttpProblem(405, 'Method not allowed', `${request.path} accepts ${known.methods.join(', ')}`), request.originalUrl);
  });
  app.use((request, response) => sendProblem(response, new HttpProblem(404, 'Not found', `no route ${request.method} ${request.path}`), request.originalUrl));
  app.use(problemHandler(logger));

  let server: Server | null = null;
  return {
    app,
    document,
    start: (port = config.api.port, host = config.api.host) => new Promise<Server>((resolve, reject) => {
      const listening = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(listening)));
      listening.on('clientError', answerClientError);
      server = listening;
    }),
    stop: () => new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
};
