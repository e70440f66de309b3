// The one way a PATCH route changes a row: its body is the create fields made optional (at least
// one given), the row is locked and read, only the given columns are set, and the change is audited
// with each given field before and after, all in the caller's transaction.
import { sql, type FragmentSqlToken, type ValueExpression } from 'slonik';
import { z } from 'zod';
import type { TenantTransaction } from '../../core/db/with-tenant.ts';
import { auditResource, beforeAndAfter } from '../audit.ts';
import { HttpProblem } from '../problem.ts';

/** A PATCH body: the fields a create validates (without its defaults), each optional, at least one. */
export const patchBody = <S extends z.core.$ZodLooseShape>(fields: S) => z.strictObject(fields).partial()
  .refine((given) => Object.keys(given).length > 0, 'name at least one field to change').meta({ minProperties: 1 });

const columnValue = (value: unknown): ValueExpression =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? sql.jsonb(value as never) : value as ValueExpression;

export type RowUpdate<R extends Record<string, unknown>> = {
  readonly tenantId: string;
  readonly actor: string;
  /** The audit action, `<resource>.updated`, and the ids that name the row in its details. */
  readonly action: string;
  readonly subject: Readonly<Record<string, string>>;
  /** Named in the 404: `no such <what>`. */
  readonly what: string;
  readonly table: string;
  readonly row: z.ZodType<R>;
  /** The select list the row schema reads. */
  readonly columns: FragmentSqlToken;
  /** Which row, with its tenant. */
  readonly where: FragmentSqlToken;
  /** The parsed PATCH body, and each of its fields' column. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly fieldColumns: Readonly<Record<string, string>>;
  /** The row in the API's field names, for the audit's before and after. */
  readonly view: (row: R) => Record<string, unknown>;
  /**
   * Checks of the body against other rows (422), once the row is found: another tenant's row is a
   * 404 whatever the body says, and a refused reference is worded before a foreign key refuses it.
   */
  readonly check?: () => Promise<void>;
};

/** Updates the row and audits the change; 404 when the row is not there (another tenant's included). */
export const updateAudited = async <R extends Record<string, unknown>>(tx: TenantTransaction, update: RowUpdate<R>): Promise<R> => {
  const table = sql.identifier([update.table]);
  const before = await tx.maybeOne(sql.type(update.row)`SELECT ${update.columns} FROM ${table} WHERE ${update.where} FOR UPDATE`);
  if (!before) throw new HttpProblem(404, 'Not found', `no such ${update.what}`);
  await update.check?.();
  const fields = Object.keys(update.body).filter((field) => update.body[field] !== undefined).sort();
  const assignments = fields.map((field) => sql.fragment`${sql.identifier([update.fieldColumns[field]!])} = ${columnValue(update.body[field])}`);
  const after = await tx.one(sql.type(update.row)`UPDATE ${table} SET ${sql.join(assignments, sql.fragment`, `)} WHERE ${update.where} RETURNING ${update.columns}`);
  await auditResource(tx, update.tenantId, update.actor, update.action, { ...update.subject, ...beforeAndAfter(update.view(before), update.view(after), fields) });
  return after;
};
