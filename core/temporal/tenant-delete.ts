// Contract of the tenant delete: the workflow `tenant-delete/<tenantId>` and what its steps exchange.

export const tenantDeleteWorkflowId = (tenantId: string) => `tenant-delete/${tenantId}`;

export type TenantDeleteInput = {
  readonly tenantId: string;
  /** Who asked (`api:<tokenId>`), kept in the tombstone and the audit row. */
  readonly requestedBy: string;
  readonly requestedAt: string;
};

/** The session snapshot kept past the delete, or why there is none (no bot pod answered). */
export type KeptSessionSnapshot =
  | { readonly objectKey: string; readonly files: number; readonly bytes: number; readonly sha256: string; readonly takenAt: string }
  | { readonly skipped: string };

export type TenantRowsDeleted = { readonly tables: Record<string, number>; readonly alreadyGone: boolean };
export type TenantObjectsDeleted = { readonly count: number; readonly bytes: number };

export type TenantDeleteResult = {
  readonly tenantId: string;
  readonly sessionSnapshot: KeptSessionSnapshot;
  readonly workflowsTerminated: number;
  readonly schedulesDeleted: number;
  readonly rows: Record<string, number>;
  readonly objects: TenantObjectsDeleted;
};
