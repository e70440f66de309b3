// The text of one lead's follow-up: `{name}` replaced by the lead's name. The name comes from the
// lead's own messages, so it is made inert: no WhatsApp formatting marks, no line breaks.
const WHATSAPP_MARKS = /[*_~`]/g;

export const renderFollowUpText = (template: string, lead: { readonly name: string | null }): string => {
  const name = (lead.name ?? '').replace(WHATSAPP_MARKS, '').replace(/\s+/g, ' ').trim();
  const text = template.replaceAll('{name}', name);
  // Without a name, "Olá {name}, ..." reads "Olá, ...", not "Olá , ...".
  return name ? text : text.replace(/ +([,.!?])/g, '$1').replace(/ {2,}/g, ' ');
};
