// A restore that must not happen (a non-empty sessions directory, a snapshot that does not verify).
// Its own module, so the activities can recognise it without loading the snapshot code and the AWS
// SDK behind it (loaded only when a snapshot or restore runs).
import { PlatformError } from '../core/errors.ts';

export class RestoreRefusedError extends PlatformError {
  constructor(message: string, cause?: unknown) {
    super('RESTORE_REFUSED', message, { cause });
  }
}
