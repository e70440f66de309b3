// RFC 9457 problem documents: every error the API answers, and the mapping from the platform's
// typed errors. Bad input is a 4xx that says what is wrong; only a real fault is a 500, and it
// never carries a stack trace or internal detail.
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConstraintViolationError, InvalidTenantIdError, TenantIsolationError } from '../core/errors.ts';
import { driverErrorField } from '../core/db/driver-error-fields.ts';
import { ScoringRuleError } from '../core/scoring/rules.ts';
import { unavailableDependency } from '../core/unavailable-dependency.ts';
import { constraintProblem } from './constraint-problems.ts';
import { routePattern } from './route-pattern.ts';

/** Where a route keeps its parsed body for the problem handler (`response.locals`). */
export const PARSED_BODY = 'parsedBody';

/** Seconds a client is told to wait before retrying a request refused because a dependency is down. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(status: number, title: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(detail);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.extra = extra;
    this.headers = headers;
  }
}

export const problemSchema = z.object({
  type: z.string(), title: z.string(), status: z.number().int(), detail: z.string(), instance: z.string().optional(),
}).loose();

export const sendProblem = (response: Response, problem: HttpProblem, instance?: string) => {
  response.set(problem.headers).status(problem.status).type('application/problem+json').json({
    type: 'about:blank', title: problem.title, status: problem.status, detail: problem.detail, instance, ...problem.extra,
  });
};

export const invalidInput = (where: string, error: z.ZodError) => new HttpProblem(400, 'Invalid request', `${where}: ${z.prettifyError(error)}`, {
  errors: error.issues.map((issue) => ({ path: [where, ...issue.path].join('.'), message: issue.message })),
});

const toProblem = (error: unknown, input: unknown): HttpProblem | null => {
  if (error instanceof HttpProblem) return error;
  if (error instanceof ScoringRuleError) return new HttpProblem(422, 'Invalid scoring rules', error.message, { ruleIndex: error.ruleIndex });
  if (error instanceof ConstraintViolationError) {
    const { status, title, detail } = constraintProblem(error, input);
    return new HttpProblem(status, title, detail);
  }
  if (error instanceof InvalidTenantIdError) return new HttpProblem(404, 'Not found', 'no such tenant');
  // 22P05, 22021: text PostgreSQL cannot store (a NUL character, an invalid encoding).
  const code = driverErrorField(error, 'code');
  if (code === '22P05' || code === '22021') return new HttpProblem(400, 'Invalid request', 'the text contains a character that cannot be stored (NUL)');
  if (error instanceof TenantIsolationError) return new HttpProblem(404, 'Not found', 'no such resource');
  const dependency = unavailableDependency(error);
  if (dependency) {
    return new HttpProblem(503, 'Service unavailable', `${dependency} is unavailable; retry after the time in Retry-After`,
      { dependency }, { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) });
  }
  // body-parser's own errors carry an HTTP status: malformed JSON, too large, bad charset.
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const type = (error as { type?: string }).type;
    const title = type === 'entity.too.large' ? 'Request body too large' : 'Unreadable request body';
    return new HttpProblem(status, title, type === 'entity.parse.failed' ? 'the body is not valid JSON' : String((error as Error).message));
  }
  return null;
};

export const problemHandler = (logger: Logger): ErrorRequestHandler => (error: unknown, request, response, next) => {
  if (response.headersSent) return next(error);
  const problem = toProblem(error, response.locals[PARSED_BODY]);
  const where = { requestId: request.requestId, method: request.method, route: routePattern(request) };
  if (problem?.status === 503) logger.warn({ err: error, ...where }, 'dependency unavailable');
  if (problem) return sendProblem(response, problem, request.originalUrl);
  logger.error({ err: error, ...where }, 'request failed');
  sendProblem(response, new HttpProblem(500, 'Internal error', `the request failed; quote request id ${request.requestId} when reporting it`), request.originalUrl);
};
