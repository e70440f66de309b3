// Scoring rules as written by tenants: validated when written (they must compile, within limits),
// so evaluation never meets a bad rule.
import { RE2JS } from 're2js';
import { z } from 'zod';
import { PlatformError } from '../errors.ts';

export const RULE_LIMITS = { patternLength: 500, rulesPerBot: 200 } as const;

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

export const compileRule = (rule: Pick<ScoringRule, 'kind' | 'pattern'>, index?: number): RE2JS => {
  try {
    return RE2JS.compile(ruleExpression(rule), RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    const which = index === undefined ? `${rule.kind} rule` : `rule ${index} (${rule.kind})`;
    throw new ScoringRuleError(`${which} does not compile: ${(error as Error).message}`, index, { cause: error });
  }
};

/** Validates a bot's rules as a whole: shape, limits, and that every pattern compiles under RE2. */
export const validateScoringRules = (input: unknown): ScoringRule[] => {
  const parsed = z.array(z.unknown()).max(RULE_LIMITS.rulesPerBot, `at most ${RULE_LIMITS.rulesPerBot} rules per bot`).safeParse(input);
  if (!parsed.success) throw new ScoringRuleError(parsed.error.issues.map((issue) => issue.message).join('; '));
  return parsed.data.map((candidate, index) => {
    const rule = scoringRuleSchema.safeParse(candidate);
    if (!rule.success) {
      throw new ScoringRuleError(`rule ${index}: ${rule.error.issues.map((issue) => `${issue.path.join('.') || 'rule'} ${issue.message}`).join('; ')}`, index);
    }
    compileRule(rule.data, index);
    return rule.data;
  });
};
