// latest.json keeps the newest figures of every section: a run of some sections at full size
// (`--only=api,pods`) replaces those sections and keeps the others, each with the time it was measured.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

type Results = { measuredAt: string; machine: unknown } & Record<string, unknown>;

const ran = (value: unknown) => value !== undefined && !(Array.isArray(value) && value.length === 0);

export const writeLatest = (path: string, results: Results) => {
  const previous = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> : {};
  const previousTimes = (previous.sectionsMeasuredAt ?? {}) as Record<string, string>;
  const merged: Record<string, unknown> = { ...previous, machine: results.machine, measuredAt: results.measuredAt };
  const sectionsMeasuredAt: Record<string, string> = {};
  for (const [name, value] of Object.entries(results)) {
    if (name === 'measuredAt' || name === 'machine') continue;
    if (ran(value)) {
      merged[name] = value;
      sectionsMeasuredAt[name] = results.measuredAt;
    } else if (ran(previous[name])) {
      // A section from before this record kept times carries the file's own time.
      sectionsMeasuredAt[name] = previousTimes[name] ?? String(previous.measuredAt);
    }
  }
  merged.sectionsMeasuredAt = sectionsMeasuredAt;
  writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
};
