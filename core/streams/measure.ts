import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** Counts and hashes what passes through (a stored object's size and SHA-256); `onBytes` sees the running total. */
export const measure = (onBytes?: (bytes: number) => void) => {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(bytes);
      callback(null, chunk);
    },
  });
  return { stream, result: () => ({ bytes, sha256: hash.digest('hex') }) };
};
