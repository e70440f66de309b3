// The WHERE condition that scopes a check's query to the run's tenant (bi_maintenance bypasses RLS).
import { sql, type FragmentSqlToken, type IdentifierSqlToken } from 'slonik';
import type { IntegrityScope } from '../../../core/data-integrity/check.ts';

export const inScope = (scope: IntegrityScope, column: IdentifierSqlToken): FragmentSqlToken =>
  scope.tenantId === null ? sql.fragment`TRUE` : sql.fragment`${column} = ${scope.tenantId}`;
