// A tenant's bot pod as a value, like createApp(deps): one WhatsApp transport per active bot, every
// inbound message stored in the outbox before it is delivered to its lead workflow, and a worker on
// `bot-pod.<tenantId>`. No module state: bot-pods/pod.ts (main) builds the deps and handles signals.
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Server } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { botPodTaskQueue } from '../core/temporal/bot-pod.ts';
import { inboundDelivery, LEAD_CONVERSATION_WORKFLOW, type InboundMessage } from '../core/temporal/lead-conversation.ts';
import {
  RECORD_BOT_SESSION_EVENTS_WORKFLOW, recordBotSessionEventsWorkflowId, type RecordBotSessionEventsInput,
} from '../core/temporal/bot-sessions.ts';
import { loadKeyring } from '../core/crypto/keyring.ts';
import { connectTemporalClient, connectTemporalWorker } from '../core/temporal/client.ts';
import type * as workflows from '../workflows/index.ts';
import { createBotPodActivities, type SessionStore } from './activities.ts';
import { ACTIVE_BOTS_REFRESH_MS, askActiveBots, loadActiveBots } from './active-bots.ts';
import type { createBaileysTransport } from './baileys-transport.ts';
import { createWriteGate } from './durable-file.ts';
import { startPodHttp } from './http.ts';
import { openIdentityMap } from './identity-map.ts';
import { toInboundMessage } from './inbound.ts';
import { openOutbox } from './outbox.ts';
import { openSentLog } from './sent-log.ts';
import { createSessionEventReporter } from './session-events.ts';
import { createSimulatorTransport, type SimulatorTransport } from './simulator-transport.ts';
import { createVolumeHealth } from './volume-health.ts';
import type { Transport, TransportHandlers } from './transport.ts';
import { backoffDelayMs } from '../core/backoff.ts';

export interface BotPodDeps {
  config: Config;
  tenantId: string;
  logger: Logger;
}

export interface BotPod {
  /** Loads the active bots, connects their transports, starts delivery, the worker and the HTTP port. */
  start(): Promise<void>;
  /** Sockets first (no new inbound), then the outbox; its pending messages stay on the volume. */
  stop(): Promise<void>;
  /** Started, not stopping, and the volume takes writes. */
  ready(): boolean;
}

export const createBotPod = ({ config, tenantId, logger }: BotPodDeps): BotPod => {
  const dataDir = resolve(config.botPod.dataDir);
  // Every journal reports whether the volume took its writes: not ready while it does not.
  const volume = createVolumeHealth(dataDir, { onChange: (state) => logger[state.writable ? 'info' : 'error']({ volume: state }, 'volume writability changed') });
  const journal = { onWrite: volume.observe };
  const outbox = openOutbox(join(dataDir, 'outbox.jsonl'), {
    journal,
    onError: (error, attempt) => logger.warn({ err: error, attempt, pending: outbox.pending().length }, 'an inbound message is not delivered yet: kept in the outbox'),
  });
  const sentLog = openSentLog(join(dataDir, 'sent-log.jsonl'), journal);
  const identities = openIdentityMap(join(dataDir, 'identities.jsonl'), journal);

  const sessionsDir = join(dataDir, 'sessions');
  const gate = createWriteGate();
  const transports = new Map<string, Transport>();
  const simulators = config.botPod.transport === 'simulator' ? new Map<string, SimulatorTransport>() : null;
  // Baileys' module graph is the largest part of a pod's heap: loaded by start() only on that transport.
  let baileysTransport: typeof createBaileysTransport | null = null;
  const createTransport = (botId: string): Transport => {
    const handlers: TransportHandlers = {
      async onMessage(info) {
        const message = await toInboundMessage(info, {
          tenantId, botId, ignoreGroups: config.botPod.ignoreGroups, phoneJidForLid: (lidJid) => transports.get(botId)!.phoneJidForLid(lidJid),
          routingKey: (identity) => identities.routingKey(botId, identity),
        });
        if (message) outbox.add(message);
      },
      onStatus: (status) => logger.info({ botId, state: status.state, lastError: status.lastError }, 'bot connection'),
      onSessionChange: (change) => sessionEvents.add(botId, change),
    };
    if (simulators) {
      const simulator = createSimulatorTransport(botId, join(dataDir, 'simulator', `${botId}.sent.jsonl`), handlers, journal, { dir: join(sessionsDir, botId), gate });
      simulators.set(botId, simulator);
      return simulator;
    }
    return baileysTransport!({
      botId, sessionDir: join(sessionsDir, botId), gate, reconnectMaxMs: config.botPod.reconnectMaxMs, logger: logger.child({ botId }), handlers,
    });
  };

  // One connection to the platform for the pod's life, made when first needed (again after a failed attempt).
  let connecting: Promise<Client> | null = null;
  const platform = () => {
    connecting ??= connectTemporalClient(config.temporal, { connectTimeoutMs: 5_000 }).catch((error: unknown) => {
      connecting = null;
      throw error;
    });
    return connecting;
  };

  // Delivery: the outbox hands messages to Temporal in arrival order, retrying while it is away.
  const deliver = async (message: InboundMessage) => {
    const client = await platform();
    await client.workflow.signalWithStart<typeof workflows.leadConversation, [InboundMessage]>(LEAD_CONVERSATION_WORKFLOW,
      inboundDelivery(tenantId, message, { taskQueue: config.temporal.taskQueue, idleTimeoutSeconds: config.conversation.idleTimeoutSeconds }));
  };

  // The connection history, reported to the platform (workflow recordBotSessionEvents) as it happens.
  const sessionEvents = createSessionEventReporter({
    async deliver(events) {
      await (await platform()).workflow.execute<typeof workflows.recordBotSessionEvents>(RECORD_BOT_SESSION_EVENTS_WORKFLOW, {
        workflowId: recordBotSessionEventsWorkflowId(tenantId, events[0]!.id),
        taskQueue: config.temporal.taskQueue,
        args: [{ tenantId, events } satisfies RecordBotSessionEventsInput],
        workflowExecutionTimeout: '30 seconds',
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    },
    onError: (error, attempt) => logger.warn({ err: error, attempt }, 'connection history not reported yet: kept in memory'),
    onDropped: (count) => logger.error({ count }, 'connection history over its memory bound: oldest changes dropped'),
  });

  let started = false;
  let stopping = false;
  const stopped = new AbortController();
  let worker: Worker | null = null;
  // The AWS SDK (and the snapshot and media code on it) loads at the first snapshot, restore or media
  // send: most pods never need it, and it would hold memory for the pod's whole life.
  let s3: Promise<S3Client> | null = null;
  const objectStore = () => (s3 ??= import('../core/object-store.ts').then(({ createObjectStoreClient }) => createObjectStoreClient(config.s3)));
  // Loaded when first needed: a pod without a configured key runs, and only its snapshots fail (readably).
  const keyring = () => loadKeyring(config.encryption);
  const sessions: SessionStore = {
    async snapshot(objectKey) {
      const { snapshotSessions } = await import('./session-snapshot.ts');
      return snapshotSessions({ sessionsDir, gate, s3: await objectStore(), bucket: config.s3.bucket, objectKey, keyring: keyring() });
    },
    async restore(objectKey) {
      const { restoreSessions } = await import('./session-snapshot.ts');
      const restored = await restoreSessions({ sessionsDir, s3: await objectStore(), bucket: config.s3.bucket, objectKey, keyring: keyring() });
      // The bots reconnect from the restored credentials.
      for (const [botId, old] of transports) {
        await old.stop();
        const fresh = createTransport(botId);
        transports.set(botId, fresh);
        await fresh.start();
      }
      logger.info({ objectKey, files: restored.files }, 'sessions restored');
      return restored;
    },
  };
  const activities = createBotPodActivities({
    tenantId, transports, sentLog, sessions,
    async readMedia(objectKey) {
      const { createMediaReader } = await import('./media.ts');
      return createMediaReader(await objectStore(), config.s3.bucket)(objectKey);
    },
  });
  // The worker of `bot-pod.<tenantId>`, reconnecting with backoff whenever Temporal goes away.
  const serveActivities = async () => {
    for (let attempt = 0; !stopping; ) {
      try {
        const { connection, namespace } = await connectTemporalWorker(config.temporal);
        try {
          worker = await Worker.create({ connection, namespace, taskQueue: botPodTaskQueue(tenantId), activities });
          attempt = 0;
          await worker.run();
        } finally {
          worker = null;
          await connection.close();
        }
      } catch (error) {
        attempt += 1;
        logger.warn({ err: error, attempt }, 'bot pod worker stopped: reconnecting');
      }
      if (!stopping) await sleep(backoffDelayMs(Math.max(1, attempt), 500, 30_000), undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  };

  // Bots added or removed through the API: their transports start or stop at the next answer.
  const applyActiveBots = async (bots: readonly string[]) => {
    const wanted = new Set(bots);
    for (const [botId, transport] of transports) {
      if (wanted.has(botId)) continue;
      transports.delete(botId);
      simulators?.delete(botId);
      await transport.stop();
      logger.info({ botId }, 'bot no longer active: transport stopped');
    }
    for (const botId of wanted) {
      if (transports.has(botId) || stopping) continue;
      const transport = createTransport(botId);
      transports.set(botId, transport);
      await transport.start();
      logger.info({ botId }, 'bot became active: transport started');
    }
  };
  const refreshActiveBots = async () => {
    while (!stopping) {
      await sleep(ACTIVE_BOTS_REFRESH_MS, undefined, { signal: stopped.signal }).catch(() => undefined);
      if (stopping) return;
      try {
        await applyActiveBots(await askActiveBots({ tenantId, dataDir, client: platform, taskQueue: config.temporal.taskQueue, logger }));
      } catch (error) {
        logger.warn({ err: error }, 'the platform did not say which bots to run: keeping the current ones');
      }
    }
  };

  let draining: Promise<void> = Promise.resolve();
  let refreshing: Promise<void> = Promise.resolve();
  let serving: Promise<void> = Promise.resolve();
  let server: Server | null = null;
  const ready = () => started && !stopping && volume.state().writable;

  return {
    ready,
    async start() {
      // The pod holds no database credentials: the platform tells it which bots to run.
      if (!simulators) baileysTransport = (await import('./baileys-transport.ts')).createBaileysTransport;
      const bots = await loadActiveBots({ tenantId, dataDir, client: platform, taskQueue: config.temporal.taskQueue, logger });
      for (const botId of bots) transports.set(botId, createTransport(botId));
      await Promise.all([...transports.values()].map((transport) => transport.start()));
      refreshing = refreshActiveBots();
      draining = outbox.drain(deliver);
      // Ended by sessionEvents.close(), which waits for it at most its flush time.
      void sessionEvents.run();
      serving = serveActivities();
      server = await startPodHttp({
        host: config.botPod.httpHost,
        port: config.botPod.httpPort,
        isReady: ready,
        readiness: () => ({
          volume: volume.state(),
          bots: [...transports.values()].map((transport) => transport.status()),
          outboxPending: outbox.pending().length,
          worker: worker?.getState() ?? 'connecting',
        }),
        simulators,
      });
      started = true;
      logger.info({ bots: bots.length, transport: config.botPod.transport, port: config.botPod.httpPort, dataDir }, 'bot pod ready');
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      stopped.abort();
      server?.close();
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.all([serving, refreshing]);
      await Promise.all([...transports.values()].map((transport) => transport.stop()));
      await outbox.close();
      await draining;
      await sessionEvents.close();
      sentLog.close();
      identities.close();
      await connecting?.then((client) => client.connection.close(), () => undefined);
      await s3?.then((client) => client.destroy(), () => undefined);
      logger.info('bot pod stopped');
    },
  };
};
