// Runs before each test file: its own rate-limit scope, as if each file were a deployment of its own.
// Counters and lockouts live in the database (api/rate-limit/), so without it one file's requests
// from 127.0.0.1 would count against the next file's limits.
import { randomUUID } from 'node:crypto';

process.env.API_RATE_LIMIT_SCOPE = `test-${randomUUID()}`;
