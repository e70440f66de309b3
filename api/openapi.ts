// The OpenAPI 3.1 document, generated from the same zod schemas the routes parse with.
import { z } from 'zod';
import { problemSchema } from './problem.ts';
import type { Registry } from './route.ts';

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: jsonSchema(problemSchema) } } });

const parametersOf = (location: 'path' | 'query' | 'header', shape: z.ZodObject | undefined) =>
  Object.entries(shape?.shape ?? {}).map(([name, schema]) => ({
    name, in: location, required: location === 'path' || !(schema as z.ZodType).safeParse(undefined).success, schema: jsonSchema(schema as z.ZodType),
  }));

/** `publicPaths`: routes outside the registry (no bearer token), described as they are. */
export const openApiDocument = (registry: Registry, publicPaths: Record<string, Record<string, unknown>> = {}) => {
  const paths: Record<string, Record<string, unknown>> = { ...publicPaths };
  for (const spec of registry.specs) {
    const path = `/api/v1${spec.path.replace(/:(\w+)/g, '{$1}')}`;
    paths[path] ??= {};
    paths[path][spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      security: [{ bearer: [] }],
      parameters: [...parametersOf('path', spec.params), ...parametersOf('query', spec.query), ...parametersOf('header', spec.headers)],
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body) } } } } : {}),
      responses: {
        ...Object.fromEntries([spec.status ?? 200, ...(spec.alternateStatus ? [spec.alternateStatus.status] : [])].map((status) => [String(status),
          { description: 'Success', content: { 'application/json': { schema: z.toJSONSchema(spec.response, { io: 'output', unrepresentable: 'any' }) } } }])),
        400: problemResponse('Invalid request (the problem lists each field at fault)'),
        401: problemResponse('Missing, unknown, revoked or expired token'),
        403: problemResponse('The token\'s role may not do this'),
        404: problemResponse('No such resource (or not visible to this token)'),
        409: problemResponse('Conflicts with stored data (a taken slug, a constraint)'),
        413: problemResponse('Request body over the limit'),
        415: problemResponse('An upload whose content is not the type it declares'),
        422: problemResponse('Well-formed but refused: a rule that does not compile (named), a stage or image that is not there'),
        429: problemResponse('Rate limit exceeded; see the RateLimit and Retry-After headers'),
        503: problemResponse('A service the request needs (the database, Temporal, object storage, Kubernetes) is unavailable; retry after the time in Retry-After'),
        ...Object.fromEntries(Object.entries(spec.problems ?? {}).map(([status, description]) => [status, problemResponse(description)])),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'BotInteligente API', version: '1', description: 'Admin API: tenants, bots, leads, scoring rules, tokens. Errors are RFC 9457 problem documents.' },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
};
