// An append-only journal on the volume: one record per line, framed as
// `<crc32 of the JSON, 8 hex> <its byte length> <JSON>\n`. Each append writes the whole record and
// fsyncs before it returns, or throws JournalWriteError and leaves nothing of the record behind
// (a full disk writes part of a record without an error: the fragment is cut off, so the next
// record is never glued onto it). On load, a torn last record (a crash mid-append, which nobody
// was told had succeeded) is cut off; a bad record with anything after it is corruption, and the
// journal refuses to open rather than silently forget what follows (JournalCorruptError).
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { syncDirectorySync, writeFileDurablySync } from './durable-file.ts';

export type Journal<T> = {
  /** Every complete entry, oldest first, as of opening. */
  readonly entries: readonly T[];
  /** Durable before it returns; throws JournalWriteError, with nothing written, when it cannot be. */
  append(entry: T): void;
  /** Replaces the whole file (durably) with `entries`: compaction. */
  rewrite(entries: readonly T[]): Promise<void>;
  close(): void;
};

export type JournalOptions = {
  /** Told the outcome of every write: null when it persisted, the error when it did not. */
  readonly onWrite?: (error: JournalWriteError | null) => void;
};

/** The volume did not take a write (ENOSPC, EIO, ...): nothing of it was kept. */
export class JournalWriteError extends Error {
  override readonly name = 'JournalWriteError';
  readonly code: string;
  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'EIO';
    super(`${path}: the volume cannot persist (${code}): ${(cause as Error).message}`, { cause });
    this.code = code;
  }
}

export class JournalCorruptError extends Error {
  override readonly name = 'JournalCorruptError';
  constructor(path: string, offset: number, line: number) {
    super(`${path}: record ${line} (byte ${offset}) is damaged and valid records follow it; refusing to open, so none of them is `
      + 'skipped (docs/bot-pods.md, "Volume layout", says how to repair it)');
  }
}

const NEWLINE = 0x0a;
const FRAME = /^([0-9a-f]{8}) (\d{1,9}) /;

const frame = (entry: unknown): Buffer => {
  const json = Buffer.from(JSON.stringify(entry));
  return Buffer.concat([Buffer.from(`${crc32(json).toString(16).padStart(8, '0')} ${json.length} `), json, Buffer.from('\n')]);
};

/** A record's entry, or undefined when the line is not a whole, intact record. */
const decode = (line: Buffer): { value: unknown } | undefined => {
  // Lines of the unframed format written before framing existed: their append was fsynced.
  if (line[0] === 0x7b) {
    try {
      return { value: JSON.parse(line.toString('utf8')) };
    } catch {
      return undefined;
    }
  }
  const header = FRAME.exec(line.subarray(0, 20).toString('latin1'));
  if (!header) return undefined;
  const json = line.subarray(header[0].length);
  if (json.length !== Number(header[2]) || crc32(json) !== Number.parseInt(header[1]!, 16)) return undefined;
  try {
    return { value: JSON.parse(json.toString('utf8')) };
  } catch {
    return undefined;
  }
};

/** The entries of a journal's bytes and how many bytes they span (the rest is a torn tail). */
export const parseJournal = <T>(path: string, data: Buffer): { entries: T[]; validBytes: number } => {
  const entries: T[] = [];
  for (let offset = 0; offset < data.length; ) {
    const end = data.indexOf(NEWLINE, offset);
    const decoded = end === -1 ? undefined : decode(data.subarray(offset, end));
    if (!decoded) {
      // A torn append is the last line and holds no newline but its own last byte.
      if (end === -1 || end === data.length - 1) return { entries, validBytes: offset };
      throw new JournalCorruptError(path, offset, entries.length + 1);
    }
    entries.push(decoded.value as T);
    offset = end + 1;
  }
  return { entries, validBytes: data.length };
};

/** Reads a journal another process may be appending to, without repairing it. */
export const readJournal = <T>(path: string): T[] => (existsSync(path) ? parseJournal<T>(path, readFileSync(path)).entries : []);

export const openJournal = <T>(path: string, options: JournalOptions = {}): Journal<T> => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const existed = existsSync(path);
  const data = existed ? readFileSync(path) : Buffer.alloc(0);
  const { entries, validBytes } = parseJournal<T>(path, data);
  // Positional writes (no O_APPEND): each record goes exactly at the end of the last good one.
  const openFile = () => openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  let fd = openFile();
  if (!existed) syncDirectorySync(dirname(path));
  let size = validBytes;
  // A torn tail, or a failed append that could not be cut off yet: the next append cuts it first.
  let fragment = validBytes < data.length;
  const failed = (error: unknown): JournalWriteError => {
    const failure = new JournalWriteError(path, error);
    options.onWrite?.(failure);
    return failure;
  };
  const cutFragment = () => {
    ftruncateSync(fd, size);
    fsyncSync(fd);
    fragment = false;
  };
  return {
    entries,
    append(entry) {
      // Synchronous on purpose: appends are small, and ordering plus durability before the caller
      // goes on is the point.
      const record = frame(entry);
      try {
        if (fragment) cutFragment();
        for (let written = 0; written < record.length; ) {
          // A short write is not an error: the rest is written, or the next write throws (ENOSPC).
          const count = writeSync(fd, record, written, record.length - written, size + written);
          if (count === 0) throw Object.assign(new Error('no byte written'), { code: 'ENOSPC' });
          written += count;
        }
        fsyncSync(fd);
      } catch (error) {
        fragment = true;
        try {
          cutFragment();
        } catch {
          // Cut again before the next append.
        }
        throw failed(error);
      }
      size += record.length;
      options.onWrite?.(null);
    },
    async rewrite(kept) {
      const records = Buffer.concat(kept.map(frame));
      try {
        // Synchronous: an append while it yielded would go to the file being replaced, and be lost.
        writeFileDurablySync(path, records);
      } catch (error) {
        throw failed(error);
      }
      closeSync(fd);
      fd = openFile();
      size = records.length;
      fragment = false;
      options.onWrite?.(null);
    },
    close() {
      closeSync(fd);
    },
  };
};
