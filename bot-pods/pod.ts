// Entry point of a tenant's bot pod: `node bot-pods/pod.ts` with BOT_POD_TENANT_ID and the volume
// in BOT_POD_DATA_DIR. Loads the config, builds the pod (bot-pods/bot-pod.ts) and stops it on a signal.
import { pino } from 'pino';
import { loadConfigOrExit } from '../core/config.ts';
import { createBotPod } from './bot-pod.ts';

const config = loadConfigOrExit();
const tenantId = config.botPod.tenantId;
if (!tenantId) {
  process.stderr.write('BOT_POD_TENANT_ID: required for a bot pod (the tenant whose bots it runs)\n');
  process.exit(78);
}
const logger = pino({ level: config.logLevel, base: { process: 'bot-pod', tenantId } });
const pod = createBotPod({ config, tenantId, logger });

const shutdown = async (signal: string) => {
  logger.info({ signal }, 'bot pod stopping');
  await pod.stop();
  process.exit(0);
};
process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));
await pod.start();
