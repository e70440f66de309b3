// Template replies: the default reply composer (deterministic, so workflow code may call it).
import type { LeadField } from './lead-info.ts';
import type { IngestResult } from './temporal/lead-conversation.ts';

const ASK: Record<LeadField, string> = {
  name: 'Como posso chamar você?',
  email: 'Qual é o seu e-mail?',
  company: 'Qual é a sua empresa?',
};

export const composeTemplateReply = (result: IngestResult): string => {
  if (result.becameQualified) return 'Obrigado! Um consultor vai falar com você em breve.';
  const question = result.missingFields[0] ? ` ${ASK[result.missingFields[0]]}` : '';
  if (result.matchedTags.includes('pricing')) return `Posso enviar nossa tabela de preços.${question}`;
  return `Olá! Como posso ajudar?${question}`;
};
