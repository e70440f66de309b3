export { createDatabasePools, type DatabasePools } from './pools.ts';
export { createWithTenant, type TenantTransaction, type WithTenant, type TenantTransactionOptions } from './with-tenant.ts';
export { parseTenantId } from './tenant-id.ts';
export { mapDatabaseError } from './map-database-error.ts';
