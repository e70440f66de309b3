// Request bodies are read only after authentication (a client without a token never makes the API
// read a byte of its body), in UTF-8 only, and at most the configured size; the large limit of image
// uploads applies to that one route, behind a cap on how many are read at once.
import express, { type RequestHandler } from 'express';
import type { Config } from '../core/config.ts';
import { reachableTenant } from './auth.ts';
import { HttpProblem } from './problem.ts';
import { MAX_IMAGE_BYTES } from './routes/catalog.ts';

/** Express path of the one route that takes large bodies, relative to /api/v1. */
export const IMAGE_UPLOAD_PATH = '/tenants/:tenantId/bots/:botId/images';
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

// RFC 8259: JSON exchanged between systems is UTF-8. body-parser would decode any `utf-*`, UTF-7 included.
const utf8Only: RequestHandler = (request, _response, next) => {
  const charset = CHARSET.exec(request.get('content-type') ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpProblem(415, 'Unsupported charset', `bodies are read as UTF-8 only, not ${charset.slice(0, 40)}`);
  }
  next();
};

export const createBodyReaders = (config: Config['api']) => {
  const json = express.json({ limit: config.bodyLimitBytes, strict: true });
  const imageJson = express.json({ limit: Math.ceil(MAX_IMAGE_BYTES / 3) * 4 + 64 * 1024, strict: true });
  let uploading = 0;
  const uploadGate: RequestHandler = (request, response, next) => {
    // Another tenant's route is 404 before its body is read, as everywhere else.
    reachableTenant(request, String(request.params.tenantId));
    if (uploading >= config.uploadsMaxConcurrent) {
      response.set('Retry-After', '1');
      throw new HttpProblem(503, 'Too many uploads', `at most ${config.uploadsMaxConcurrent} image uploads are read at once; retry after the time in Retry-After`);
    }
    uploading += 1;
    response.once('close', () => { uploading -= 1; });
    next();
  };
  return { general: [utf8Only, json], imageUpload: [utf8Only, uploadGate, imageJson] };
};
