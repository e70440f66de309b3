// mailpit: a real SMTP server on loopback that keeps what it receives, with an HTTP API to read the
// mail and to make the server refuse (its "chaos" triggers: how the tests make a send fail).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../core/config.ts';
import { isRunning, startService, stopService, waitUntilHealthy } from './processes.ts';

const SERVICE = 'mailpit';

export const mailpitUrl = (config: Config) => `http://${config.email.smtp.host}:${config.stack.mailpitHttpPort}`;

const answers = async (config: Config) => {
  const response = await fetch(`${mailpitUrl(config)}/api/v1/info`, { signal: AbortSignal.timeout(2_000) });
  if (!response.ok) throw new Error(`mailpit answered ${response.status}`);
};

export const startMailpit = async (config: Config): Promise<{ reused: boolean; url: string }> => {
  const url = mailpitUrl(config);
  if (await isRunning(() => answers(config))) return { reused: true, url };
  const { host, port } = config.email.smtp;
  const program = resolve(config.stack.toolsDir, 'bin', 'mailpit');
  if (!existsSync(program)) throw new Error(`${program} is missing: build it with \`bash scripts/kube-tools.sh\``);
  startService(config.stack.dir, SERVICE, program, [
    '--smtp', `${host}:${port}`, '--listen', `${host}:${config.stack.mailpitHttpPort}`,
    // No --database: a temporary one, gone when mailpit stops (the local mail is for watching, not keeping).
    '--enable-chaos', '--smtp-disable-rdns', '--disable-version-check', '--quiet',
  ]);
  await waitUntilHealthy(config.stack.dir, SERVICE, () => answers(config));
  return { reused: false, url };
};

export const stopMailpit = (config: Config) => stopService(config.stack.dir, SERVICE);
