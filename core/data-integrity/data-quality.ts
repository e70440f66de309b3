// Data quality, reported as figures rather than findings: per tenant, the share of leads with an
// e-mail address and the share with a valid E.164 phone number (a lead known only by its @lid has
// none), beside the seeds' success metrics: e-mail completeness over 95%, phone validity over 98%.
import { z } from 'zod';

export const DATA_QUALITY_TARGETS = { emailCompleteness: 0.95, phoneValidity: 0.98 } as const;

const ratio = z.number().min(0).max(1);
export const dataQualityFigures = z.object({
  leads: z.number().int().min(0),
  emailCompleteness: ratio.nullable(),
  phoneValidity: ratio.nullable(),
  /** Both figures above their targets (null without leads). */
  meetsTargets: z.boolean().nullable(),
});
export type DataQualityFigures = z.infer<typeof dataQualityFigures>;

export const dataQualityReport = z.object({
  targets: z.object({ emailCompleteness: ratio, phoneValidity: ratio }),
  platform: dataQualityFigures,
  /** Tenants with at least one lead at the time of the run. */
  tenants: z.array(dataQualityFigures.extend({ tenantId: z.uuid() })),
});
export type DataQualityReport = z.infer<typeof dataQualityReport>;

export type DataQualityCounts = { readonly leads: number; readonly withEmail: number; readonly withValidPhone: number };

export const dataQualityOf = ({ leads, withEmail, withValidPhone }: DataQualityCounts): DataQualityFigures => {
  if (leads === 0) return { leads, emailCompleteness: null, phoneValidity: null, meetsTargets: null };
  const emailCompleteness = withEmail / leads;
  const phoneValidity = withValidPhone / leads;
  return {
    leads, emailCompleteness, phoneValidity,
    meetsTargets: emailCompleteness > DATA_QUALITY_TARGETS.emailCompleteness && phoneValidity > DATA_QUALITY_TARGETS.phoneValidity,
  };
};
