// The scope of an integrity run as a string (`platform` or `tenant-<uuid>`), used in workflow ids.
import { z } from 'zod';
import type { IntegrityScope } from './check.ts';

const TENANT_SCOPE = /^tenant-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export const scopeNameSchema = z.union([z.literal('platform'), z.string().regex(TENANT_SCOPE, 'must be platform or tenant-<uuid>')]);

export const scopeName = (scope: IntegrityScope): string => (scope.tenantId === null ? 'platform' : `tenant-${scope.tenantId}`);

export const parseScopeName = (name: string): IntegrityScope => {
  const valid = scopeNameSchema.parse(name);
  return { tenantId: valid === 'platform' ? null : TENANT_SCOPE.exec(valid)![1]! };
};
