// Text PostgreSQL can store: no NUL (text and jsonb both refuse it) and no lone UTF-16 surrogate
// (jsonb refuses its escape; a text column would silently store U+FFFD instead). NUL as a pattern,
// so the OpenAPI document states it; lone surrogates by `isWellFormed()` (a pattern for them is one
// JSON Schema tools cannot use). Each check is one linear pass, run only once the length check
// passed (`abort`): a pattern with two unbounded runs around one character backtracked
// quadratically, 8.6 s for a 99,000-character name.
import { z } from 'zod';

/* eslint-disable no-control-regex -- matching NUL is the point */
export const WITHOUT_NUL = /^[^\u0000]*$/;
/* eslint-enable no-control-regex */
export const NOT_BLANK = /\S/;

/** A string of min..max characters PostgreSQL can store; the other checks run only within the length. */
export const storableText = ({ min = 0, max, trim = false }: { min?: number; max: number; trim?: boolean }) =>
  (trim ? z.string().trim() : z.string()).min(min, { abort: true }).max(max, { abort: true })
    .regex(WITHOUT_NUL, 'must not contain NUL')
    .refine((text) => text.isWellFormed(), 'must not contain a lone surrogate');

/** A name: not blank, no NUL. */
export const nameText = (max: number) => storableText({ min: 1, max }).regex(NOT_BLANK, 'must not be blank');

/** An E.164 phone number (the database's own CHECK on phone columns); its source is valid in Postgres too. */
export const E164 = /^\+[1-9]\d{1,14}$/;
