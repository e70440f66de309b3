// One place that turns a route's zod schemas into both its validation and its OpenAPI entry, so
// the document can never drift from what the code accepts. Unknown fields are refused (strict
// objects), every input is parsed before the handler runs.
import type { Request, Router } from 'express';
import type { z } from 'zod';
import { principalOf, reachableTenant, requirePlatformAdmin, type Principal } from './auth.ts';
import { invalidInput, PARSED_BODY } from './problem.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Shape = z.ZodObject;

export type RouteSpec<P extends Shape, Q extends Shape, B extends z.ZodType, R extends z.ZodType> = {
  readonly method: Method;
  /** Express syntax, relative to /api/v1: `/tenants/:tenantId/bots`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: 'platform-admin' | 'any';
  readonly params?: P;
  readonly query?: Q;
  /** Request headers the route needs (lower-case names). */
  readonly headers?: z.ZodObject;
  readonly body?: B;
  readonly response: R;
  readonly status?: number;
  /** A second success status where the query asks for it: a dry run answers 200 beside the real 202. */
  readonly alternateStatus?: { readonly status: number; readonly when: (query: z.output<Q>) => boolean };
  /** Problem statuses the route answers beyond the common ones, for the OpenAPI document. */
  readonly problems?: Readonly<Record<number, string>>;
};

export type RouteContext<P extends Shape, Q extends Shape, B extends z.ZodType> = {
  readonly request: Request;
  readonly principal: Principal;
  readonly params: z.output<P>;
  readonly query: z.output<Q>;
  readonly headers: Record<string, string>;
  readonly body: z.output<B>;
};

export type Registry = {
  add<P extends Shape, Q extends Shape, B extends z.ZodType, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R>, handler: (context: RouteContext<P, Q, B>) => Promise<z.input<R>>,
  ): void;
  readonly specs: readonly RouteSpec<Shape, Shape, z.ZodType, z.ZodType>[];
};

const parse = <S extends z.ZodType>(where: string, schema: S | undefined, value: unknown): z.output<S> => {
  if (!schema) return undefined as z.output<S>;
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(where, result.error);
  return result.data;
};

export const createRegistry = (router: Router): Registry => {
  const specs: RouteSpec<Shape, Shape, z.ZodType, z.ZodType>[] = [];
  return {
    specs,
    add(spec, handler) {
      specs.push(spec as never);
      router[spec.method](spec.path, async (request, response) => {
        const principal = spec.access === 'platform-admin' ? requirePlatformAdmin(request) : principalOf(request);
        // Another tenant's route is 404 before anything else is looked at, so nothing about it leaks.
        if (typeof request.params.tenantId === 'string') reachableTenant(request, request.params.tenantId);
        const params = parse('path', spec.params, request.params);
        const query = parse('query', spec.query, request.query ?? {});
        const headers = parse('headers', spec.headers, request.headers) as Record<string, string>;
        const body = parse('body', spec.body, request.body);
        // A refused constraint is worded with the parsed input (api/constraint-problems.ts).
        response.locals[PARSED_BODY] = body;
        const result = await handler({ request, principal, params, query, headers, body });
        const status = spec.alternateStatus?.when(query) ? spec.alternateStatus.status : spec.status ?? 200;
        response.status(status).json(spec.response.parse(result));
      });
    },
  };
};
