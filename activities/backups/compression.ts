import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from 'node:zlib';
import type { Transform } from 'node:stream';

export type Compression = 'zstd' | 'gzip';

// The benchmark compares zstd 1 and 3 and gzip 6 (docs/backups.md).
export const compressor = (compression: Compression, level: number): Transform =>
  compression === 'zstd' ? createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } }) : createGzip({ level: Math.min(level, 9) });

export const decompressor = (compression: Compression): Transform =>
  compression === 'zstd' ? createZstdDecompress() : createGunzip();
