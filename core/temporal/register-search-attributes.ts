// The platform registers its own search attributes (TenantId, BotId, LeadId) in its namespace: a
// real Temporal cluster has no dev-server flags, and a start that names an unknown attribute fails.
// Idempotent, and safe when another worker replica registers them at the same moment.
import type { Connection } from '@temporalio/client';
import { PLATFORM_SEARCH_ATTRIBUTES } from './search-attributes.ts';

const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
const GRPC_ALREADY_EXISTS = 6;

type Operator = Pick<Connection, 'operatorService'>;

const alreadyExists = (error: unknown) => (error as { code?: unknown }).code === GRPC_ALREADY_EXISTS;

/** The platform attributes not registered yet; one registered with another type is refused, readably. */
const missingAttributes = async ({ operatorService }: Operator, namespace: string) => {
  const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
  return PLATFORM_SEARCH_ATTRIBUTES.filter((key) => {
    const type = customAttributes?.[key.name];
    if (type === undefined || type === null) return true;
    if (type !== KEYWORD) throw new Error(`search attribute ${key.name} is registered in namespace ${namespace} with type ${type}, not Keyword: remove it, and the worker registers it at start`);
    return false;
  });
};

/** Registers the missing platform search attributes; returns the names it added (none when all were there). */
export const registerSearchAttributes = async (connection: Operator, namespace: string): Promise<string[]> => {
  const missing = await missingAttributes(connection, namespace);
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace, searchAttributes: Object.fromEntries(missing.map((key) => [key.name, KEYWORD])),
    });
  } catch (error) {
    if (!alreadyExists(error)) throw error;
    // Another replica got there first, perhaps with only some of them: whatever is still missing is added.
    const left = await missingAttributes(connection, namespace);
    if (left.length > 0) await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(left.map((key) => [key.name, KEYWORD])) });
  }
  return missing.map((key) => key.name);
};
