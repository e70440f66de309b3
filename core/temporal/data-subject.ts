// The data-subject erasure workflow's contract. Its input names the request only: the person's
// identifier stays in the database (data_subject_erasures), never in Temporal's history.

/** One workflow per erasure request. */
export const dataSubjectErasureWorkflowId = (tenantId: string, requestId: string) => `data-subject-erasure/${tenantId}/${requestId}`;

export type DataSubjectErasureInput = { readonly tenantId: string; readonly requestId: string };
export type DataSubjectObjectsInput = { readonly tenantId: string; readonly keys: readonly string[] };
/** Rows deleted per table, `redacted.<table>` rows redacted, and `objects`. */
export type DataSubjectErasureCounts = Record<string, number>;
