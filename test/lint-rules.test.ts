// The lint rules are part of the safety net: prove they fire on the code they exist to stop.
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

const lint = async (filePath: string, code: string): Promise<string[]> => {
  const [result] = await new ESLint().lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => message.message);
};

describe('lint rules', () => {
  it('refuse SQL built by string concatenation or interpolation', async () => {
    const messages = await lint('activities/example.ts', [
      "export const byConcat = (id: string) => 'SELECT * FROM leads WHERE id = ' + id;",
      'export const byTemplate = (id: string) => `DELETE FROM leads WHERE id = ${id}`;',
    ].join('\n'));
    expect(messages.filter((message) => message.startsWith('SQL built by'))).toHaveLength(2);
  });

  it('accept SQL written with the slonik tag', async () => {
    const messages = await lint('activities/example.ts', [
      "import { sql } from 'slonik';",
      'export const byTag = (id: string) => sql.unsafe`DELETE FROM leads WHERE id = ${id}`;',
    ].join('\n'));
    expect(messages).toEqual([]);
  });

  it('keep Node built-ins and activity code out of workflows', async () => {
    const messages = await lint('workflows/example.ts', [
      "import { randomUUID } from 'node:crypto';",
      "import { createActivities } from '../activities/index.ts';",
      "import type { Activities } from '../activities/index.ts';",
      'export const used: unknown[] = [randomUUID, createActivities, {} as Activities];',
    ].join('\n'));
    expect(messages.some((message) => message.includes('not deterministic'))).toBe(true);
    expect(messages.some((message) => message.includes('only the types of activities'))).toBe(true);
    expect(messages.filter((message) => message.includes("'../activities/index.ts'"))).toHaveLength(1);
  });

  it('keep core/ free of the processes, and workflow and activity code out of the api, bot pods and stack', async () => {
    const fromCore = await lint('core/temporal/example.ts', [
      "import type { ApiDeps } from '../../api/deps.ts';",
      "import { createActivities } from '../../activities/index.ts';",
      "import { leadWorkflowId } from './lead-conversation.ts';",
      'export const used: unknown[] = [{} as ApiDeps, createActivities, leadWorkflowId];',
    ].join('\n'));
    expect(fromCore.filter((message) => message.includes('core/ imports nothing'))).toHaveLength(2);
    for (const file of ['api/routes/example.ts', 'bot-pods/example.ts', 'stack/example.ts']) {
      const messages = await lint(file, [
        "import { leadConversation } from '../workflows/lead-conversation.ts';",
        "import type { platformSelfCheck } from '../workflows/self-check.ts';",
        "import { createActivities } from '../activities/index.ts';",
        'export const used: unknown[] = [leadConversation, {} as typeof platformSelfCheck, createActivities];',
      ].join('\n'));
      expect(messages.filter((message) => message.includes('import their types only'))).toHaveLength(2);
    }
  });

  it('let the operator run the tenant reconcile\'s Kubernetes activities, and nothing else of workflows/ and activities/', async () => {
    const messages = await lint('operator/example.ts', [
      "import { createBotTenantActivities } from '../activities/bot-tenant/index.ts';",
      "import { createActivities } from '../activities/index.ts';",
      "import { botTenantReconcile } from '../workflows/bot-tenant.ts';",
      "import type * as workflows from '../workflows/index.ts';",
      'export const used: unknown[] = [createBotTenantActivities, createActivities, botTenantReconcile, {} as typeof workflows];',
    ].join('\n'));
    const refused = messages.filter((message) => message.includes('The operator runs only the activities of activities/bot-tenant/'));
    expect(refused).toHaveLength(2);
  });

  it('keep process.env inside core/config.ts', async () => {
    expect(await lint('api/example.ts', 'export const port = process.env.PORT;')).toContain(
      "'process.env' is restricted from being used. Read configuration through core/config.ts (parsed once with zod) and pass it down.",
    );
  });

  it('refuse a promise nobody awaits, or one passed where a callback returns nothing, where work runs on its own', async () => {
    const code = [
      'const deliver = async (): Promise<void> => undefined;',
      'export const forgotten = (): void => { deliver(); };',
      'export const misused = (): void => { setTimeout(deliver, 10); [1].forEach(async () => deliver()); };',
      'export const marked = (): void => { void deliver(); };',
    ].join('\n');
    for (const folder of ['workflows', 'activities', 'bot-pods']) {
      const messages = await lint(`${folder}/example.ts`, code);
      expect({ folder, floating: messages.filter((message) => message.startsWith('Promises must be awaited')).length })
        .toEqual({ folder, floating: 1 });
      expect({ folder, misused: messages.filter((message) => message.startsWith('Promise returned in function argument where a void return was expected')).length })
        .toEqual({ folder, misused: 2 });
    }
  });
});
