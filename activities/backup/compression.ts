import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from 'node:zlib';
import type { Transform } from 'node:stream';

export type Compression = 'zstd' | 'gzip';

// zstd level 3 (its default) and gzip level 6: the benchmark compares both (docs/BACKUP_STRATEGY.md).
export const compressor = (compression: Compression): Transform =>
  compression === 'zstd' ? createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 3 } }) : createGzip({ level: 6 });

export const decompressor = (compression: Compression): Transform =>
  compression === 'zstd' ? createZstdDecompress() : createGunzip();
