// The bot pod's routing key per person: one key whatever form each message takes and in whatever
// order, kept across a restart, and never a pairing that no message made.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { openIdentityMap, type SenderIdentity } from '../bot-pods/identity-map.ts';

const scratch = () => join(mkdtempSync(join(tmpdir(), 'identity-map-')), 'identities.jsonl');
const PHONE = '5511944443333';
const LID = '777000111222333';
const forms: Record<string, SenderIdentity> = {
  'lid+phone': { phone: PHONE, lid: LID },
  lid: { phone: null, lid: LID },
  phone: { phone: PHONE, lid: null },
};

describe('identity map', () => {
  it('gives one key to a person whichever form comes first, once a message has paired lid and phone', () => {
    const orders = [
      ['lid+phone', 'lid', 'phone'], ['lid+phone', 'phone', 'lid'], ['lid', 'lid+phone', 'phone'],
      ['phone', 'lid+phone', 'lid'], ['lid', 'lid+phone', 'lid', 'phone'], ['phone', 'lid+phone', 'phone', 'lid'],
    ];
    for (const order of orders) {
      const map = openIdentityMap(scratch());
      const keys = order.map((form) => map.routingKey('bot-1', forms[form]!));
      // The first identifier seen is the key; the phone when the first message brings both.
      expect([order.join(' > '), new Set(keys)]).toEqual([order.join(' > '), new Set([order[0] === 'lid' ? LID : PHONE])]);
      map.close();
    }
  });

  it('keeps its pairings across a restart (a SIGKILL loses nothing acknowledged)', () => {
    const path = scratch();
    const before = openIdentityMap(path);
    expect(before.routingKey('bot-1', forms.lid!)).toBe(LID);
    expect(before.routingKey('bot-1', forms['lid+phone']!)).toBe(LID);
    // No close: as after a crash.
    const after = openIdentityMap(path);
    expect(after.routingKey('bot-1', forms.phone!)).toBe(LID);
    expect(after.routingKey('bot-2', forms.phone!)).toBe(PHONE); // each bot has its own leads
    after.close();
    before.close();
  });

  it('never pairs on a guess: a lid and a phone first seen apart keep their own keys', () => {
    const map = openIdentityMap(scratch());
    expect(map.routingKey('bot-1', forms.lid!)).toBe(LID);
    expect(map.routingKey('bot-1', forms.phone!)).toBe(PHONE);
    // A later message pairs them: it goes where its phone goes, and neither key moves.
    expect(map.routingKey('bot-1', forms['lid+phone']!)).toBe(PHONE);
    expect(map.routingKey('bot-1', forms.lid!)).toBe(LID);
    map.close();
  });
});
