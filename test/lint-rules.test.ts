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

  it('keep process.env inside core/config.ts', async () => {
    expect(await lint('api/example.ts', 'export const port = process.env.PORT;')).toContain(
      "'process.env' is restricted from being used. Read configuration through core/config.ts (parsed once with zod) and pass it down.",
    );
  });
});
