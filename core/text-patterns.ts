// Text PostgreSQL can store: no NUL character (text and jsonb both refuse it). As patterns, so
// zod validates them and the OpenAPI document states them.
/* eslint-disable no-control-regex -- matching NUL is the point */
export const WITHOUT_NUL = /^[^\u0000]*$/;
export const NOT_BLANK_WITHOUT_NUL = /^[^\u0000]*\S[^\u0000]*$/;
/* eslint-enable no-control-regex */
