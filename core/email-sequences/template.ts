// The templates of a sequence step: text with `{{lead.name}}`-style variables and nothing else (no
// sections, no partials, no unescaped output, no code). A pure renderer of our own rather than a
// template library: every library that fits (mustache, handlebars) also has the constructs this
// feature must refuse, so it would need a second parser to forbid them; this one is the grammar.

/** Every variable a template may name: the lead's fields, its stage, its bot and its tenant. */
export const TEMPLATE_VARIABLES = [
  'lead.name', 'lead.email', 'lead.phone', 'lead.company', 'lead.stage', 'lead.score', 'bot.name', 'tenant.name',
] as const;

export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Readonly<Record<TemplateVariable, string>>;

const KNOWN = new Set<string>(TEMPLATE_VARIABLES);
// `{{ name }}` with optional inner spaces, not inside a third brace (mustache's unescaped output);
// anything else between braces is a malformed tag.
const TAG = /(?<!\{)\{\{\s*([A-Za-z0-9_.]+)\s*\}\}(?!\})/g;

/** What is wrong with a template: variables it names that do not exist, and braces that are no variable. */
export type TemplateProblems = { readonly unknownVariables: readonly string[]; readonly malformed: boolean };

export const templateProblems = (template: string): TemplateProblems => {
  const unknownVariables = new Set<string>();
  for (const [, name] of template.matchAll(TAG)) if (!KNOWN.has(name!)) unknownVariables.add(name!);
  // Once the well-formed tags are gone, any `{{` or `}}` left is a construct this grammar does not have.
  const rest = template.replace(TAG, '');
  return { unknownVariables: [...unknownVariables].sort(), malformed: rest.includes('{{') || rest.includes('}}') };
};

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' };
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]!);

/**
 * Replaces each variable by its value, HTML-escaped for the HTML part. Templates are checked when
 * they are written, so a name unknown here (a template older than a removed variable) renders empty.
 */
export const renderTemplate = (template: string, values: TemplateValues, mode: 'text' | 'html'): string =>
  template.replace(TAG, (_tag, name: string) => {
    const value = KNOWN.has(name) ? values[name as TemplateVariable] : '';
    return mode === 'html' ? escapeHtml(value) : value;
  });
