// Repairs a JSON document that fails its zod schema by removal only: an unknown key is dropped and an
// invalid value is removed, so the schema's default applies in its place (every key of the settings
// document is optional or defaulted). No value is ever invented. A path stops at its first array: an
// invalid item resets the whole list, since dropping one item would change what the list says.
import type { z } from 'zod';

type JsonObject = Record<string, unknown>;
export type DocumentRepair = { readonly repaired: JsonObject; readonly removed: readonly string[] };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const MAX_ROUNDS = 20;

const removeAt = (document: JsonObject, path: readonly string[]): boolean => {
  let parent: unknown = document;
  for (const key of path.slice(0, -1)) parent = isObject(parent) ? parent[key] : undefined;
  const last = path.at(-1)!;
  if (!isObject(parent) || !Object.hasOwn(parent, last)) return false;
  delete parent[last];
  return true;
};

/** The document with what fails the schema removed, and the removed paths; null when removal cannot make it valid. */
export const repairDocument = (schema: z.ZodType, document: unknown): DocumentRepair | null => {
  if (!isObject(document)) return schema.safeParse({}).success ? { repaired: {}, removed: ['(root)'] } : null;
  const repaired = structuredClone(document);
  const removed: string[] = [];
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const parsed = schema.safeParse(repaired);
    if (parsed.success) return { repaired, removed };
    let changed = false;
    for (const issue of parsed.error.issues) {
      const firstArray = issue.path.findIndex((key) => typeof key !== 'string');
      const path = (firstArray < 0 ? issue.path : issue.path.slice(0, firstArray)).map(String);
      const paths = issue.code === 'unrecognized_keys' && firstArray < 0 ? issue.keys.map((key) => [...path, key]) : [path];
      for (const target of paths) {
        if (target.length === 0 || !removeAt(repaired, target)) continue;
        removed.push(target.join('.'));
        changed = true;
      }
    }
    if (!changed) return null;
  }
  return null;
};
