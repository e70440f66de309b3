// The slug of a tenant row created by `kubectl apply` of a BotTenant (the first door): its
// resource name, made to fit the tenants_slug_format CHECK; a second form when that slug is taken.

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

const fit = (text: string) => text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 63);

/** The slugs to try, in order: the resource's name, then the name with the tenant id's first block. */
export const tenantSlugCandidates = (resourceName: string, tenantId: string): string[] => {
  const base = fit(resourceName);
  const suffix = tenantId.slice(0, 8);
  const withSuffix = `${base.slice(0, 63 - suffix.length - 1)}-${suffix}`.replace(/^-+/, '');
  return [...new Set([base, withSuffix, `tenant-${tenantId}`.slice(0, 63)])].filter((slug) => SLUG.test(slug));
};
