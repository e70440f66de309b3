// Template replies: the default composer, and the fallback of the chat composer. Pure.
import type { ReplyTemplates } from './conversation-settings.ts';
import type { LeadField } from './lead-info.ts';

export type CatalogMatch = { readonly name: string; readonly price: string; readonly currency: string };

export type ReplyContext = {
  readonly becameQualified: boolean;
  readonly matchedTags: readonly string[];
  /** Lead details still unknown, in the order the bot asks for them. */
  readonly missingFields: readonly LeadField[];
  /** Active products of the bot named in the message. */
  readonly catalogMatches: readonly CatalogMatch[];
};

const ASK: Record<LeadField, keyof ReplyTemplates> = { name: 'askName', email: 'askEmail', company: 'askCompany' };

export const describeProducts = (matches: readonly CatalogMatch[]): string =>
  matches.map((product) => `${product.name} (${product.currency} ${product.price})`).join(', ');

export const composeTemplateReply = (context: ReplyContext, templates: ReplyTemplates): string => {
  if (context.becameQualified) return templates.qualified;
  const field = context.missingFields[0];
  const question = field ? ` ${templates[ASK[field]]}` : '';
  if (context.catalogMatches.length > 0) return `${templates.catalog.replaceAll('{products}', describeProducts(context.catalogMatches))}${question}`;
  if (context.matchedTags.includes('pricing')) return `${templates.pricing}${question}`;
  return `${templates.greeting}${question}`;
};
