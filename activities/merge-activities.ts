// The worker registers activities by name: two features exporting the same name would make one
// silently replace the other under a plain spread. This merge refuses that, at compile time (the
// call does not type-check) and, should a cast hide it, at worker start.

type UnionToIntersection<U> = (U extends unknown ? (union: U) => void : never) extends (intersection: infer I) => void ? I : never;

/** The names that more than one of the groups declares. */
export type SharedActivityNames<Groups extends readonly object[], Seen = never> =
  Groups extends readonly [infer Head extends object, ...infer Rest extends readonly object[]]
    ? (keyof Head & Seen) | SharedActivityNames<Rest, Seen | keyof Head>
    : never;

type NoSharedNames<Groups extends readonly object[]> =
  [SharedActivityNames<Groups>] extends [never] ? unknown : { readonly duplicateActivityNames: SharedActivityNames<Groups> };

export const mergeActivities = <const Groups extends readonly object[]>(
  ...groups: Groups & NoSharedNames<Groups>
): UnionToIntersection<Groups[number]> => {
  const merged: Record<string, unknown> = {};
  for (const group of groups) {
    for (const [name, activity] of Object.entries(group)) {
      if (name in merged) throw new Error(`Two activity groups both declare the activity ${name}`);
      merged[name] = activity;
    }
  }
  return merged as UnionToIntersection<Groups[number]>;
};
