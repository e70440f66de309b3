// Backup retention as a plan: a pure function from the catalog to what is kept (with why) and what
// is deleted. The plan is logged before any object is touched, and the newest verified backup is
// kept whatever the policy says, so a bad policy can never leave the platform without a restore.
// A backup a restore holds is kept too, so nothing deletes what a restore is reading.
// Weeks (ISO, Monday first) and months are counted in UTC.

export type CatalogEntry = {
  readonly id: string;
  readonly createdAt: Date;
  /** Its manifest exists: every object was written. */
  readonly complete: boolean;
  /** A restore drill restored it and found it equal to its manifest. */
  readonly verified: boolean;
  /** A restore is reading it (or awaiting approval to) until then, unless it ends sooner. */
  readonly heldUntil: Date | null;
};

export type RetentionPolicy = { readonly keepDays: number; readonly keepWeekly: number; readonly keepMonthly: number };

export type RetentionReason = 'recent' | 'weekly' | 'monthly' | 'newest-verified' | 'in-progress' | 'held-by-restore';
export type RetentionPlan = {
  readonly keep: readonly { readonly id: string; readonly reasons: readonly RetentionReason[] }[];
  readonly delete: readonly { readonly id: string }[];
};

const DAY_MS = 24 * 60 * 60 * 1000;

/** Monday 00:00 UTC of the date's ISO week, as a key. */
const weekOf = (date: Date) => {
  const day = (date.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day)).toISOString().slice(0, 10);
};
const monthOf = (date: Date) => date.toISOString().slice(0, 7);

/** The newest complete backup of each of the last `count` periods that have one. */
const newestPerPeriod = (entries: readonly CatalogEntry[], periodOf: (date: Date) => string, count: number) => {
  const newest = new Map<string, CatalogEntry>();
  for (const entry of entries) {
    if (!entry.complete) continue;
    const period = periodOf(entry.createdAt);
    const current = newest.get(period);
    if (!current || entry.createdAt > current.createdAt) newest.set(period, entry);
  }
  return [...newest.entries()].sort(([a], [b]) => (a < b ? 1 : -1)).slice(0, count).map(([, entry]) => entry.id);
};

export const planRetention = (entries: readonly CatalogEntry[], policy: RetentionPolicy, now: Date): RetentionPlan => {
  const reasons = new Map<string, RetentionReason[]>(entries.map((entry) => [entry.id, []]));
  const keepFor = (id: string, reason: RetentionReason) => reasons.get(id)!.push(reason);
  const recentSince = now.getTime() - policy.keepDays * DAY_MS;
  for (const entry of entries) {
    if (entry.createdAt.getTime() >= recentSince) keepFor(entry.id, entry.complete ? 'recent' : 'in-progress');
    if (entry.heldUntil && entry.heldUntil > now) keepFor(entry.id, 'held-by-restore');
  }
  for (const id of newestPerPeriod(entries, weekOf, policy.keepWeekly)) keepFor(id, 'weekly');
  for (const id of newestPerPeriod(entries, monthOf, policy.keepMonthly)) keepFor(id, 'monthly');
  const newestVerified = entries.filter((entry) => entry.complete && entry.verified)
    .reduce<CatalogEntry | null>((best, entry) => (!best || entry.createdAt > best.createdAt ? entry : best), null);
  if (newestVerified) keepFor(newestVerified.id, 'newest-verified');
  return {
    keep: entries.filter((entry) => reasons.get(entry.id)!.length > 0).map((entry) => ({ id: entry.id, reasons: reasons.get(entry.id)! })),
    delete: entries.filter((entry) => reasons.get(entry.id)!.length === 0).map((entry) => ({ id: entry.id })),
  };
};

/** Objects in the bucket that no catalog entry claims: reported, never deleted by retention. */
export const unclaimedObjects = (objectKeys: readonly string[], claimedKeys: ReadonlySet<string>): string[] =>
  objectKeys.filter((key) => !claimedKeys.has(key)).sort();
