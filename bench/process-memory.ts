// A process's memory as the kernel counts it. RSS counts every resident page, shared or not; PSS splits
// each shared page (the node binary, the Temporal core's library: read from one page cache by every pod
// of a node) between the processes that map it, so PSS summed over pods is what they take together.
import { readFileSync } from 'node:fs';

const megabytes = (text: string, field: string) =>
  Math.round(Number(text.split('\n').find((line) => line.startsWith(`${field}:`))!.replace(/\D/g, '')) / 1024);

export type ProcessMemory = { readonly rssMb: number; readonly pssMb: number };

export const processMemory = (pid: number): ProcessMemory => {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rssMb: megabytes(rollup, 'Rss'), pssMb: megabytes(rollup, 'Pss') };
};
