import { describe, expect, it } from '@jest/globals';
import { extractLeadInfo, missingLeadFields } from '../core/lead-info.ts';
import { composeTemplateReply } from '../core/replies.ts';

describe('lead info extraction', () => {
  it('finds name, e-mail and company stated in Portuguese or English', () => {
    expect(extractLeadInfo('Olá, meu nome é Ana Souza, trabalho na Padaria Central. Email: Ana.Souza@Example.com.br'))
      .toEqual({ name: 'Ana Souza', email: 'ana.souza@example.com.br', company: 'Padaria Central' });
    expect(extractLeadInfo("Hi, I'm John and I work at Acme")).toEqual({ name: 'John', company: 'Acme' });
  });

  it('guesses nothing from text that states nothing', () => {
    expect(extractLeadInfo('qual o preço do plano?')).toEqual({});
    expect(extractLeadInfo('sou o melhor cliente')).toEqual({});
  });

  it('stays bounded on a hostile 100 kB message', () => {
    expect(extractLeadInfo(`${'a'.repeat(100_000)}@`)).toEqual({});
  });

  it('lists what is still missing, in the order the bot asks', () => {
    expect(missingLeadFields({ name: 'Ana', email: null })).toEqual(['email', 'company']);
    expect(missingLeadFields({ name: 'Ana', email: 'a@b.co', company: 'X' })).toEqual([]);
  });
});

describe('template replies', () => {
  const result = { leadId: 'x', duplicate: false, score: 0, isQualified: false, becameQualified: false, matchedTags: [] as string[] };
  it('ask for the first missing detail, and thank a newly qualified lead', () => {
    expect(composeTemplateReply({ ...result, missingFields: ['email', 'company'] })).toBe('Olá! Como posso ajudar? Qual é o seu e-mail?');
    expect(composeTemplateReply({ ...result, matchedTags: ['pricing'], missingFields: [] })).toBe('Posso enviar nossa tabela de preços.');
    expect(composeTemplateReply({ ...result, becameQualified: true, missingFields: ['name'] })).toBe('Obrigado! Um consultor vai falar com você em breve.');
  });
});
