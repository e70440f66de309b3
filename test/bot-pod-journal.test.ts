// The pod's journals (outbox, sent-log, simulator record) on real files: a torn last record is cut
// off and the next append lands cleanly; a damaged record with records after it refuses to open,
// so nothing after it is skipped; files written before records were framed still load.
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { JournalCorruptError, openJournal } from '../bot-pods/journal.ts';

type Record = { n: number; text: string };
const scratch = () => join(mkdtempSync(join(tmpdir(), 'journal-')), 'journal.jsonl');
const record = (n: number): Record => ({ n, text: `message ${n}` });
const written = (path: string, count: number) => {
  const journal = openJournal<Record>(path);
  for (let n = 1; n <= count; n += 1) journal.append(record(n));
  journal.close();
};

describe('journal', () => {
  it('cuts off a torn final record, and the next append is read back after it', () => {
    const path = scratch();
    written(path, 3);
    appendFileSync(path, '{"n":4,"text":"mess'); // a crash in the middle of the 4th append

    const reopened = openJournal<Record>(path);
    expect(reopened.entries).toEqual([record(1), record(2), record(3)]);
    reopened.append(record(5));
    reopened.close();
    expect(openJournal<Record>(path).entries).toEqual([record(1), record(2), record(3), record(5)]);
  });

  it('refuses to open with a readable error when a record in the middle is damaged, rather than skip what follows', () => {
    const path = scratch();
    written(path, 3);
    // One flipped letter: still valid JSON, so only the record's checksum can tell.
    writeFileSync(path, readFileSync(path, 'utf8').replace('"message 2"', '"massage 2"'));
    expect(() => openJournal<Record>(path)).toThrow(JournalCorruptError);
    expect(() => openJournal<Record>(path)).toThrow(/record 2 \(byte \d+\) is damaged and valid records follow it/);
  });

  it('refuses a fragment that a later record was glued onto', () => {
    const path = scratch();
    writeFileSync(path, '{"n":1,"text":"message 1"}\n{"n":2,"te{"n":3,"text":"message 3"}\n{"n":4,"text":"message 4"}\n');
    expect(() => openJournal<Record>(path)).toThrow(/record 2/);
  });

  it('keeps a record appended while a compaction runs', async () => {
    const path = scratch();
    const journal = openJournal<Record>(path);
    for (let n = 1; n <= 3; n += 1) journal.append(record(n));
    const compacting = journal.rewrite([record(1)]);
    journal.append(record(4)); // an inbound message arriving meanwhile
    await compacting;
    journal.append(record(5));
    journal.close();
    expect(openJournal<Record>(path).entries).toEqual([record(1), record(4), record(5)]);
  });

  it('loads lines written before records were framed, and appends framed ones after them', () => {
    const path = scratch();
    writeFileSync(path, `${JSON.stringify(record(1))}\n${JSON.stringify(record(2))}\n`);
    const journal = openJournal<Record>(path);
    expect(journal.entries).toEqual([record(1), record(2)]);
    journal.append(record(3));
    journal.close();
    expect(openJournal<Record>(path).entries).toEqual([record(1), record(2), record(3)]);
  });
});
