// Scoring rules as written by tenants: validated when written (they must compile, within limits),
// so evaluation never meets a bad rule.
import { RE2JS } from 're2js';
import { z } from 'zod';
import { PlatformError } from '../errors.ts';
import { largestRepeatCount } from './repeat-counts.ts';

/**
 * What one rule, and one bot's rules together, may cost. Matching is linear in the message, times
 * the size of the compiled program: `.{0,1000}` fifty times was a 100,000-instruction program that
 * took 13 s on a 2,000-character message. Counts above 100 are refused before compiling (compiling
 * that rule alone took 185 ms); the program sizes bound what every accepted rule costs to run.
 */
export const RULE_LIMITS = { patternLength: 500, rulesPerBot: 200, repeatCount: 100, programSize: 1_000, totalProgramSize: 20_000 } as const;

export const scoringRuleSchema = z.strictObject({
  id: z.uuid().optional(),
  kind: z.enum(['keyword', 'phrase', 'regex']),
  pattern: z.string().trim().min(1).max(RULE_LIMITS.patternLength),
  weight: z.number().int().min(-1000).max(1000),
  tag: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,49}$/).nullable().optional(),
  active: z.boolean().default(true),
});
export type ScoringRule = z.output<typeof scoringRuleSchema>;

export class ScoringRuleError extends PlatformError {
  readonly ruleIndex: number | undefined;
  constructor(message: string, ruleIndex?: number, options?: { cause?: unknown }) {
    super('SCORING_RULE_INVALID', message, options);
    this.ruleIndex = ruleIndex;
  }
}

// Letters and digits in any script count as word characters (RE2's \b is ASCII-only: "preço").
const NOT_WORD = '[^\\p{L}\\p{N}]';

/** The RE2 expression of a rule; keywords and phrases are quoted, so they are never interpreted. */
export const ruleExpression = (rule: Pick<ScoringRule, 'kind' | 'pattern'>): string => {
  switch (rule.kind) {
    case 'keyword':
      return `(?:^|${NOT_WORD})${RE2JS.quote(rule.pattern)}(?:$|${NOT_WORD})`;
    case 'phrase':
      return rule.pattern.split(/\s+/).map((word) => RE2JS.quote(word)).join('\\s+');
    case 'regex':
      return rule.pattern;
  }
};

const describeRule = (rule: Pick<ScoringRule, 'kind'>, index?: number) => (index === undefined ? `${rule.kind} rule` : `rule ${index} (${rule.kind})`);

export const compileRule = (rule: Pick<ScoringRule, 'kind' | 'pattern'>, index?: number): RE2JS => {
  try {
    return RE2JS.compile(ruleExpression(rule), RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    throw new ScoringRuleError(`${describeRule(rule, index)} does not compile: ${(error as Error).message}`, index, { cause: error });
  }
};

/**
 * Checks a rule being saved against the cost limits and returns its program size. Only when saved:
 * a rule stored before a limit existed still scores (within the per-message time budget).
 */
const compileWithinLimits = (rule: Pick<ScoringRule, 'kind' | 'pattern'>, index: number): number => {
  const largest = largestRepeatCount(ruleExpression(rule));
  if (largest > RULE_LIMITS.repeatCount) {
    throw new ScoringRuleError(`${describeRule(rule, index)} repeats ${largest} times; a repetition count may be at most ${RULE_LIMITS.repeatCount}`, index);
  }
  const size = compileRule(rule, index).programSize();
  if (size > RULE_LIMITS.programSize) {
    throw new ScoringRuleError(`${describeRule(rule, index)} compiles to ${size} instructions; at most ${RULE_LIMITS.programSize} (use smaller repetition counts or fewer of them)`, index);
  }
  return size;
};

/** Validates a bot's rules as a whole: shape, limits, and that every pattern compiles under RE2. */
export const validateScoringRules = (input: unknown): ScoringRule[] => {
  const parsed = z.array(z.unknown()).max(RULE_LIMITS.rulesPerBot, `at most ${RULE_LIMITS.rulesPerBot} rules per bot`).safeParse(input);
  if (!parsed.success) throw new ScoringRuleError(parsed.error.issues.map((issue) => issue.message).join('; '));
  let totalSize = 0;
  return parsed.data.map((candidate, index) => {
    const rule = scoringRuleSchema.safeParse(candidate);
    if (!rule.success) {
      throw new ScoringRuleError(`rule ${index}: ${rule.error.issues.map((issue) => `${issue.path.join('.') || 'rule'} ${issue.message}`).join('; ')}`, index);
    }
    totalSize += compileWithinLimits(rule.data, index);
    if (totalSize > RULE_LIMITS.totalProgramSize) {
      throw new ScoringRuleError(`rule ${index}: the rules up to this one compile to ${totalSize} instructions; a bot's rules may total at most ${RULE_LIMITS.totalProgramSize}`, index);
    }
    return rule.data;
  });
};
