// The route a request matched, as registered (`/tenants/:tenantId/leads`), never the concrete path:
// ids would explode the metrics' label set and put ids and link tokens in the logs.
import type { Request } from 'express';

export const routePattern = (request: Request) => (request.route?.path ? `${request.baseUrl}${String(request.route.path)}` : 'unmatched');
