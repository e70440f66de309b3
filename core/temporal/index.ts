export * from './search-attributes.ts';
export * from './task-queues.ts';
export * from './workflow-ids.ts';
export type * from './self-check.ts';
