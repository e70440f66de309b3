import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseConfig, variables } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { renderConfigurationReference } from '../core/config-doc.ts';

describe('configuration', () => {
  it('parses the embedded defaults', () => {
    const config = parseConfig({});
    expect(config.database.poolMax).toBe(10);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(config.s3.forcePathStyle).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every variable with a bad value', () => {
    const parse = () => parseConfig({ DB_POOL_MAX: 'many', DATABASE_URL: 'mysql://x', S3_FORCE_PATH_STYLE: 'perhaps' });
    expect(parse).toThrow(ConfigError);
    try {
      parse();
    } catch (error) {
      const problems = (error as ConfigError).problems.map((problem) => problem.split(':')[0]);
      expect(problems.sort()).toEqual(['DATABASE_URL', 'DB_POOL_MAX', 'S3_FORCE_PATH_STYLE']);
    }
  });

  it('needs exactly one signing secret (config or keyring key id) for the integrity alert webhook', () => {
    const url = { INTEGRITY_ALERT_WEBHOOK_URL: 'https://alerts.example.com/hook' };
    const problem = 'INTEGRITY_ALERT_WEBHOOK_SECRET, INTEGRITY_ALERT_WEBHOOK_KEYRING_KEY_ID: with INTEGRITY_ALERT_WEBHOOK_URL, set exactly one';
    for (const env of [url, { ...url, INTEGRITY_ALERT_WEBHOOK_SECRET: 'x'.repeat(32), INTEGRITY_ALERT_WEBHOOK_KEYRING_KEY_ID: 'alerts' }]) {
      expect(() => parseConfig(env)).toThrow(problem);
    }
    expect(parseConfig({ ...url, INTEGRITY_ALERT_WEBHOOK_KEYRING_KEY_ID: 'alerts' }).integrity.alertWebhook)
      .toEqual({ url: 'https://alerts.example.com/hook', secret: null, secretKeyId: 'alerts' });
    expect(parseConfig({}).integrity.alertWebhook).toBeNull();
  });

  it('stops an entry point with a message naming the variable', () => {
    const result = spawnSync(process.execPath, ['worker/main.ts'], {
      env: { PATH: '', TEMPORAL_ADDRESS: 'not an address' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('TEMPORAL_ADDRESS: must be host:port');
    expect(result.stderr).not.toContain('    at ');
  });

  it('documents every variable, with its default, in docs/configuration.md', () => {
    const documented = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    expect(documented).toBe(renderConfigurationReference());
    for (const name of Object.keys(variables)) expect(documented).toContain(`\`${name}\``);
  });
});
