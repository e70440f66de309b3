// Prometheus metrics of the API: request latency by route, rate-limit refusals, workflow starts.
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { routePattern } from './route-pattern.ts';

export const createMetrics = () => {
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry });
  const requestSeconds = new Histogram({
    name: 'api_request_duration_seconds', help: 'API request latency', labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
  });
  const rateLimited = new Counter({ name: 'api_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['limit'] as const, registers: [registry] });
  const workflowStarts = new Counter({ name: 'api_workflow_starts_total', help: 'Workflows started from the API', labelNames: ['workflow', 'outcome'] as const, registers: [registry] });

  const observe: RequestHandler = (request, response, next) => {
    const stop = requestSeconds.startTimer();
    response.on('finish', () => {
      stop({ method: request.method, route: routePattern(request), status: String(response.statusCode) });
    });
    next();
  };
  const expose: RequestHandler = async (_request, response) => {
    response.type(registry.contentType).send(await registry.metrics());
  };
  return { registry, observe, expose, rateLimited, workflowStarts };
};

export type ApiMetrics = ReturnType<typeof createMetrics>;
