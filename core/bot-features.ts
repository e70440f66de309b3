// A bot feature's options (bot_features.config): a flat JSON object of named scalar values. No API
// route writes bot features yet; this is the shape the platform accepts, for that route to validate
// with and for the data-integrity monitor to re-check rows already stored.
import { z } from 'zod';
import { storableText } from './text-patterns.ts';

export const BOT_FEATURE_OPTION_LIMIT = 50;

export const botFeatureConfigSchema = z.record(
  z.string().regex(/^[a-z][a-zA-Z0-9_]{0,62}$/, 'an option name: a lower-case letter, then letters, digits or _'),
  z.union([storableText({ max: 1000 }), z.number(), z.boolean(), z.null()]),
).refine((config) => Object.keys(config).length <= BOT_FEATURE_OPTION_LIMIT, `at most ${BOT_FEATURE_OPTION_LIMIT} options`);
