// Runs before each test file: its own rate-limit scope, as if each file were a deployment of its own.
// Counters and lockouts live in the database (api/rate-limit/), so without it one file's requests
// from 127.0.0.1 would count against the next file's limits.
import { randomUUID } from 'node:crypto';

process.env.API_RATE_LIMIT_SCOPE = `test-${randomUUID()}`;

// A new connection may take over the production default of 1 s when the whole suite shares two
// loaded cores; a refused connection (a stopped Postgres) still fails at once.
process.env.DB_CONNECT_TIMEOUT_MS ??= '5000';
