// Template replies: the default reply composer (deterministic, so workflow code may call it).
import type { IngestResult } from './temporal/lead-conversation.ts';

export const composeTemplateReply = (result: IngestResult): string => {
  if (result.becameQualified) return 'Obrigado! Um consultor vai falar com você em breve.';
  if (result.matchedTags.includes('pricing')) return 'Posso enviar nossa tabela de preços. Qual plano interessa a você?';
  return 'Olá! Como posso ajudar?';
};
