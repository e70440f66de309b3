// The pure keyword matcher behind product images (core/lead-conversation/image-keywords.ts).
import { describe, expect, it } from '@jest/globals';
import { foldText, imagesMentioned, singularForms } from '../core/lead-conversation/image-keywords.ts';

const images = [
  { id: 'chairs', keywords: ['cadeiras'] },
  { id: 'tv', keywords: ['Televisão'] },
  { id: 'sofa', keywords: ['sofá', 'poltrona'] },
  { id: 'table', keywords: ['mesa de jantar'] },
  { id: 'boxes', keywords: ['box'] },
  { id: 'none', keywords: [] },
];

describe('image keywords', () => {
  it('folds case and accents', () => {
    expect(foldText('CADEIRA Ação Sofá')).toBe('cadeira acao sofa');
  });

  it('matches a keyword in Portuguese with accents, case and plural either side', () => {
    expect(imagesMentioned('Quero ver a cadeira', images)).toEqual(['chairs']);
    expect(imagesMentioned('CADEIRAS?', images)).toEqual(['chairs']);
    expect(imagesMentioned('tem televisões baratas?', images)).toEqual(['tv']);
    expect(imagesMentioned('e o SOFA, e as poltronas?', images)).toEqual(['sofa']);
    expect(imagesMentioned('send the boxes', images)).toEqual(['boxes']);
  });

  it('matches the words of a multi-word keyword in a row only', () => {
    expect(imagesMentioned('gostei das mesas de jantar', images)).toEqual(['table']);
    expect(imagesMentioned('a mesa é de jantar?', images)).toEqual([]);
  });

  it('knows simple Portuguese and English plurals, and not short stems', () => {
    expect(singularForms('limoes')).toContain('limao');
    expect(singularForms('animais')).toContain('animal');
    expect(singularForms('papeis')).toContain('papel');
    expect(singularForms('jardins')).toContain('jardim');
    expect(singularForms('luzes')).toContain('luz');
    expect(singularForms('berries')).toContain('berry');
    expect([...singularForms('as')]).toEqual(['as']);
  });

  it('matches nothing in words that only contain a keyword', () => {
    expect(imagesMentioned('cadeirante', images)).toEqual([]);
    expect(imagesMentioned('', images)).toEqual([]);
  });

  it('stays bounded on a long message and many images', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ id: String(i), keywords: Array.from({ length: 20 }, (_, k) => `palavra${i}x${k} outra`) }));
    const started = performance.now();
    expect(imagesMentioned('palavras '.repeat(20_000), many)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
