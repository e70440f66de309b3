// Baileys auth state on the bot pod's volume, one directory per bot: the credentials in
// creds.json and every signal key in a file of its own, each written durably (temp file, fsync,
// rename), so a SIGKILL at any moment leaves a state that loads. Encoding is Baileys' BufferJSON.
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthenticationCreds, AuthenticationState, SignalDataTypeMap } from '@whiskeysockets/baileys';
import { BufferJSON, initAuthCreds, proto } from './baileys-lib.ts';
import {
  createKeyedQueue, createWriteGate, removeFileDurably, removeInterruptedWrites, writeFileDurably, type WriteGate,
} from './durable-file.ts';

const CREDS_FILE = 'creds.json';

export type AuthStore = {
  readonly state: AuthenticationState;
  saveCreds(): Promise<void>;
  /** Forgets the session (logged out): every file goes, and fresh credentials are ready for pairing. */
  clear(): Promise<void>;
};

/** A key's file name; encodeURIComponent keeps ids with `/` or `:` inside the directory. */
const keyFile = (type: keyof SignalDataTypeMap, id: string) => `${type}-${encodeURIComponent(id)}.json`;

export const openAuthStore = async (directory: string, gate: WriteGate = createWriteGate()): Promise<AuthStore> => {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await removeInterruptedWrites(directory);
  const serialized = createKeyedQueue();

  const read = async <T>(file: string): Promise<T | null> => {
    try {
      return JSON.parse(await readFile(join(directory, file), 'utf8'), BufferJSON.reviver) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };
  const write = (file: string, value: unknown) =>
    gate.write(() => serialized(file, () => writeFileDurably(join(directory, file), JSON.stringify(value, BufferJSON.replacer))));
  const remove = (file: string) => gate.write(() => serialized(file, () => removeFileDurably(join(directory, file))));

  const creds: AuthenticationCreds = (await read<AuthenticationCreds>(CREDS_FILE)) ?? initAuthCreds();
  const state: AuthenticationState = {
    creds,
    keys: {
      async get(type, ids) {
        const entries = await Promise.all(ids.map(async (id) => {
          const value = await read<SignalDataTypeMap[typeof type]>(keyFile(type, id));
          return [id, type === 'app-state-sync-key' && value
            ? proto.Message.AppStateSyncKeyData.fromObject(value as object)
            : value ?? undefined] as const;
        }));
        return Object.fromEntries(entries) as { [id: string]: SignalDataTypeMap[typeof type] };
      },
      async set(data) {
        const writes: Promise<void>[] = [];
        for (const [type, values] of Object.entries(data) as [keyof SignalDataTypeMap, Record<string, unknown>][]) {
          for (const [id, value] of Object.entries(values ?? {})) {
            writes.push(value ? write(keyFile(type, id), value) : remove(keyFile(type, id)));
          }
        }
        await Promise.all(writes);
      },
    },
  };
  return {
    state,
    saveCreds: () => write(CREDS_FILE, state.creds),
    async clear() {
      const files = (await readdir(directory)).filter((name) => name.endsWith('.json'));
      await Promise.all(files.map((name) => remove(name)));
      state.creds = initAuthCreds();
    },
  };
};
