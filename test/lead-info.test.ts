import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CONVERSATION_SETTINGS, readConversationSettings } from '../core/lead-conversation/conversation-settings.ts';
import { extractLeadInfo, missingLeadFields, pickLeadFields } from '../core/lead-conversation/lead-info.ts';
import { composeTemplateReply } from '../core/lead-conversation/replies.ts';

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

  it('collects only the fields a tenant chose, in its order', () => {
    expect(missingLeadFields({ name: null, email: null }, ['email', 'name'])).toEqual(['email', 'name']);
    expect(missingLeadFields({ name: null, company: null }, [])).toEqual([]);
    expect(pickLeadFields({ name: 'Ana', email: 'a@b.co', company: 'X' }, ['company'])).toEqual({ company: 'X' });
  });
});

describe('conversation settings', () => {
  it('default what a tenant did not set and keep what it did', () => {
    expect(readConversationSettings({ retentionDays: 30 })).toEqual(DEFAULT_CONVERSATION_SETTINGS);
    const custom = readConversationSettings({ leadFields: ['company'], replies: { greeting: 'Hi!' } });
    expect(custom.leadFields).toEqual(['company']);
    expect(custom.replies.greeting).toBe('Hi!');
    expect(custom.replies.askCompany).toBe(DEFAULT_CONVERSATION_SETTINGS.replies.askCompany);
  });

  it('fall back to the defaults for stored values that no longer parse, one setting at a time', () => {
    const settings = readConversationSettings({ leadFields: ['name', 'name'], replies: { greeting: 'Oi', unknown: 1 } });
    expect(settings).toEqual(DEFAULT_CONVERSATION_SETTINGS);
    expect(readConversationSettings('not an object')).toEqual(DEFAULT_CONVERSATION_SETTINGS);
  });
});

describe('template replies', () => {
  const templates = DEFAULT_CONVERSATION_SETTINGS.replies;
  const context = { becameQualified: false, matchedTags: [] as string[], missingFields: [] as const, catalogMatches: [] as const };
  it('ask for the first missing detail, and thank a newly qualified lead', () => {
    expect(composeTemplateReply({ ...context, missingFields: ['email', 'company'] }, templates)).toBe('Olá! Como posso ajudar? Qual é o seu e-mail?');
    expect(composeTemplateReply({ ...context, matchedTags: ['pricing'] }, templates)).toBe('Posso enviar nossa tabela de preços.');
    expect(composeTemplateReply({ ...context, becameQualified: true, missingFields: ['name'] }, templates)).toBe('Obrigado! Um consultor vai falar com você em breve.');
  });

  it('name matched catalog products, with the tenant\'s own texts', () => {
    const catalogMatches = [{ name: 'Plano Pro', price: '99.90', currency: 'BRL' }, { name: 'Plano Max', price: '199.00', currency: 'BRL' }];
    expect(composeTemplateReply({ ...context, catalogMatches, matchedTags: ['pricing'], missingFields: ['name'] }, templates))
      .toBe('Temos Plano Pro (BRL 99.90), Plano Max (BRL 199.00). Como posso chamar você?');
    expect(composeTemplateReply({ ...context, catalogMatches }, { ...templates, catalog: 'We have {products}!' }))
      .toBe('We have Plano Pro (BRL 99.90), Plano Max (BRL 199.00)!');
  });
});
