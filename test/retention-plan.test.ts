// The retention plan on synthetic catalogs of 400 days (nightly backups, some failed, some
// verified): exactly the planned set is deleted, and the newest verified backup survives every case.
import { describe, expect, it } from '@jest/globals';
import { planRetention, unclaimedObjects, type CatalogEntry } from '../core/backups/retention-plan.ts';

const DAY = 24 * 60 * 60 * 1000;
const now = new Date(Date.UTC(2026, 10, 22, 3, 0, 0));
const policy = { keepDays: 30, keepWeekly: 8, keepMonthly: 12 };

/** A night's backup for each of the last `days` days; `pick` decides completeness and verification. */
const catalog = (days: number, pick: (day: number) => { complete: boolean; verified: boolean }): CatalogEntry[] =>
  Array.from({ length: days }, (_, day) => ({ id: `b-${day}`, createdAt: new Date(now.getTime() - day * DAY - 60_000), heldUntil: null, ...pick(day) }));

const random = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

describe('retention plan', () => {
  it('keeps the last 30 days, the newest of the last 8 weeks and 12 months, and deletes exactly the rest', () => {
    const entries = catalog(400, () => ({ complete: true, verified: false }));
    const plan = planRetention(entries, policy, now);
    const kept = new Set(plan.keep.map((entry) => entry.id));
    expect(plan.keep.length + plan.delete.length).toBe(400);
    expect(plan.delete.every((entry) => !kept.has(entry.id))).toBe(true);
    // Every backup of the last 30 days.
    expect(entries.filter((entry) => now.getTime() - entry.createdAt.getTime() <= 30 * DAY).every((entry) => kept.has(entry.id))).toBe(true);
    // One per week for 8 weeks and one per month for 12 months beyond that: 30 + at most 8 + 12 kept.
    expect(plan.keep.length).toBeLessThanOrEqual(30 + 8 + 12);
    const months = new Set(plan.keep.map((entry) => entries.find((e) => e.id === entry.id)!.createdAt.toISOString().slice(0, 7)));
    expect(months.size).toBe(12);
    // The oldest kept backup is within 12 months; everything older is deleted.
    const oldestKept = Math.max(...plan.keep.map((entry) => Number(entry.id.slice(2))));
    expect(oldestKept).toBeLessThan(366);
    expect(plan.delete.map((entry) => entry.id)).toContain('b-399');
  });

  it('never deletes the newest verified backup, whatever the catalog and policy', () => {
    const next = random(20261122);
    for (let round = 0; round < 200; round += 1) {
      const entries = catalog(400, () => ({ complete: next() > 0.1, verified: next() > 0.97 }));
      const strictest = { keepDays: Math.floor(next() * 3), keepWeekly: Math.floor(next() * 2), keepMonthly: Math.floor(next() * 2) };
      const plan = planRetention(entries, strictest, now);
      const newestVerified = entries.filter((entry) => entry.complete && entry.verified).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
      if (newestVerified) expect(plan.delete.map((entry) => entry.id)).not.toContain(newestVerified.id);
      expect(plan.keep.length + plan.delete.length).toBe(entries.length);
    }
  });

  it('never keeps an incomplete backup for a week or a month, and keeps a recent one while it may be running', () => {
    const entries = catalog(60, (day) => ({ complete: day % 7 !== 0, verified: false }));
    const plan = planRetention(entries, policy, now);
    const reasons = new Map(plan.keep.map((entry) => [entry.id, entry.reasons]));
    expect(reasons.get('b-0')).toEqual(['in-progress']);
    expect(plan.delete.map((entry) => entry.id)).toContain('b-35');
    for (const [id, why] of reasons) if (Number(id.slice(2)) % 7 === 0) expect(why).toEqual(['in-progress']);
  });

  it('keeps a backup a restore holds until the hold expires, whatever the policy', () => {
    const entries = catalog(400, () => ({ complete: true, verified: false }))
      .map((entry) => (entry.id === 'b-300' ? { ...entry, heldUntil: new Date(now.getTime() + DAY) } : entry));
    const none = { keepDays: 0, keepWeekly: 0, keepMonthly: 0 };
    expect(planRetention(entries, none, now).keep).toEqual([{ id: 'b-300', reasons: ['held-by-restore'] }]);
    expect(planRetention(entries, none, new Date(now.getTime() + 2 * DAY)).keep).toEqual([]);
  });

  it('reports objects no catalog entry claims, for a person to look at', () => {
    expect(unclaimedObjects(['backups/a/db.dump.enc', 'backups/x/db.dump.enc', 'backups/a/manifest.json'], new Set(['backups/a/db.dump.enc', 'backups/a/manifest.json'])))
      .toEqual(['backups/x/db.dump.enc']);
  });
});
