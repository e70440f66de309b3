// What a candidate does with the Lease it just read: the timing rules of leader election, pure, so
// they are tested with a made-up clock.

export type LeaseState = {
  readonly holder: string | null;
  readonly renewTime: Date | null;
  readonly durationSeconds: number;
};

export type LeaseDecision =
  /** No Lease yet: create it, holding it. */
  | 'create'
  /** Ours: renew it. */
  | 'renew'
  /** Someone else's, expired (or released): take it over. */
  | 'acquire'
  /** Someone else's and alive: wait. */
  | 'follow';

export const decideLease = (lease: LeaseState | null, identity: string, now: Date): LeaseDecision => {
  if (lease === null) return 'create';
  if (lease.holder === identity) return 'renew';
  if (lease.holder === null || lease.holder === '' || lease.renewTime === null) return 'acquire';
  const expiresAt = lease.renewTime.getTime() + lease.durationSeconds * 1000;
  return now.getTime() > expiresAt ? 'acquire' : 'follow';
};
