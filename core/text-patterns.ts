// Text PostgreSQL can store: no NUL (text and jsonb both refuse it) and no lone UTF-16 surrogate
// (jsonb refuses its escape; a text column would silently store U+FFFD instead). As patterns, so
// zod validates them and the OpenAPI document states them. Each pattern is one linear pass, and it
// runs only once the length check passed (`abort`): a pattern with two unbounded runs around one
// character backtracked quadratically, 8.6 s for a 99,000-character name.
import { z } from 'zod';

/* eslint-disable no-control-regex -- matching NUL is the point */
export const STORABLE_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;
/* eslint-enable no-control-regex */
export const NOT_BLANK = /\S/;

/** A string of min..max characters PostgreSQL can store; the pattern runs only within the length. */
export const storableText = ({ min = 0, max, trim = false }: { min?: number; max: number; trim?: boolean }) =>
  (trim ? z.string().trim() : z.string()).min(min, { abort: true }).max(max, { abort: true })
    .regex(STORABLE_TEXT, 'must not contain NUL or a lone surrogate');
