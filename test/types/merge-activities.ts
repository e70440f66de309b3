// Compile-time test: activities merged for the worker may not share a name (one would replace the
// other). Each `@ts-expect-error` line must stay an error: tsc fails if one compiles. Never run.
import { mergeActivities } from '../../activities/merge-activities.ts';

const lead = { ingestInbound: async () => 'lead' };
const backups = { backupDatabase: async () => 'backup' };
const alsoLead = { ingestInbound: async () => 'other' };

export const merged = () => {
  const activities = mergeActivities(lead, backups);
  return [activities.ingestInbound(), activities.backupDatabase()] satisfies Promise<string>[];
};

export const duplicated = () => {
  // @ts-expect-error two groups declare ingestInbound
  mergeActivities(lead, backups, alsoLead);
  // @ts-expect-error a group merged with itself
  mergeActivities(backups, backups);
};
