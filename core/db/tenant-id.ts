import { z } from 'zod';
import { InvalidTenantIdError } from '../errors.ts';

const tenantIdSchema = z.uuid();

/** Validates a tenant id as a UUID; nothing else may reach `app.current_tenant`. */
export const parseTenantId = (value: unknown): string => {
  const result = tenantIdSchema.safeParse(value);
  if (!result.success) throw new InvalidTenantIdError(value);
  return result.data.toLowerCase();
};
