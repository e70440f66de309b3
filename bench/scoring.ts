// Scoring alone: messages per second through 50 rules, the RE2 engine (re2js, what production
// runs) beside JavaScript's own backtracking RegExp on equivalent expressions.
import { compileRules, evaluateMessage } from '../core/scoring/evaluate.ts';
import type { ScoringRule } from '../core/scoring/rules.ts';

const KEYWORDS = ['preço', 'price', 'plano', 'plan', 'desconto', 'discount', 'comprar', 'buy', 'orçamento', 'quote',
  'urgente', 'urgent', 'empresa', 'company', 'contrato', 'contract', 'demo', 'trial', 'cancelar', 'cancel'];
const PHRASES = ['quanto custa', 'how much', 'quero comprar', 'want to buy', 'forma de pagamento', 'payment method',
  'falar com vendedor', 'talk to sales', 'nota fiscal', 'invoice please', 'prazo de entrega', 'delivery time',
  'tabela de preços', 'price list', 'plano anual'];
const REGEXES = ['\\b\\d{2,4} ?(usuários|users|seats)\\b', 'R\\$ ?\\d+', '\\b(cnpj|cpf)\\b', '[a-z0-9._%+-]+@[a-z0-9-]+\\.[a-z]{2,}',
  '\\+?\\d{2} ?\\(?\\d{2}\\)? ?\\d{4,5}-?\\d{4}', '\\b(amanhã|tomorrow|hoje|today)\\b', '(a+)+$', '\\b(\\w+) \\1\\b',
  '\\b(pix|boleto|cartão)\\b', '\\d{1,3}(\\.\\d{3})*(,\\d{2})?', '\\b(black friday|promo)\\b', '\\b(api|integração|integration)\\b',
  '\\b(whatsapp|instagram)\\b', '\\b(erp|crm)\\b', '\\b(sp|rj|mg)\\b', '\\b(asap|urgência)\\b'].filter((pattern) => !pattern.includes('\\1'));

export const benchRules = (): ScoringRule[] => [
  ...KEYWORDS.map((pattern, i) => ({ kind: 'keyword' as const, pattern, weight: (i % 7) + 1, tag: null, active: true })),
  ...PHRASES.map((pattern, i) => ({ kind: 'phrase' as const, pattern, weight: (i % 5) + 2, tag: null, active: true })),
  ...REGEXES.map((pattern, i) => ({ kind: 'regex' as const, pattern, weight: (i % 3) + 3, tag: null, active: true })),
].slice(0, 50);

export const SAMPLE_TEXTS = [
  'Olá! Quanto custa o plano anual para 25 usuários? Precisamos de nota fiscal com CNPJ.',
  'Hi, how much is the price for 120 seats? We want to buy before Black Friday, payment method pix or boleto.',
  'bom dia, meu nome é Ana e trabalho na Padaria Central, podemos falar amanhã sobre integração com o ERP?',
  'ok obrigado, vou pensar e volto a falar com vocês semana que vem',
  'I would like a demo and a trial, and the price list in R$ 1.250,00 please, my email is joe@acme.com',
];

const escapeForJs = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const NOT_WORD = '[^\\p{L}\\p{N}]';
const jsExpression = (rule: ScoringRule): RegExp => {
  switch (rule.kind) {
    case 'keyword': return new RegExp(`(?:^|${NOT_WORD})${escapeForJs(rule.pattern)}(?:$|${NOT_WORD})`, 'iu');
    case 'phrase': return new RegExp(rule.pattern.split(/\s+/).map(escapeForJs).join('\\s+'), 'iu');
    case 'regex': return new RegExp(rule.pattern, 'iu');
  }
};

const measure = (evaluate: (text: string) => number, messages: number) => {
  for (let i = 0; i < 2_000; i += 1) evaluate(SAMPLE_TEXTS[i % SAMPLE_TEXTS.length]!); // warm-up
  let checksum = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages; i += 1) checksum += evaluate(SAMPLE_TEXTS[i % SAMPLE_TEXTS.length]!);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { messagesPerSecond: Math.round(messages / seconds), checksum };
};

const secondsOf = (run: () => unknown) => {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e9;
};

/**
 * The ReDoS case: `(a+)+$` against `a…ab`. RE2 over 100 kB stays linear; RegExp doubles its time
 * with every extra `a`, so it is timed only on short inputs.
 */
const pathological = () => {
  const rule: ScoringRule = { kind: 'regex', pattern: '(a+)+$', weight: 1, tag: null, active: true };
  const compiled = compileRules([rule]);
  const expression = new RegExp(rule.pattern);
  return {
    re2SecondsAt100kB: Number(secondsOf(() => evaluateMessage(compiled, `${'a'.repeat(100_000)}b`)).toFixed(4)),
    jsRegExpSecondsByLength: Object.fromEntries([20, 22, 24, 26].map((length) => [
      length, Number(secondsOf(() => expression.test(`${'a'.repeat(length)}b`)).toFixed(4)),
    ])),
  };
};

export const runScoringBench = (messages = 100_000) => {
  const rules = benchRules();
  const compiled = compileRules(rules);
  const re2 = measure((text) => evaluateMessage(compiled, text).scoreDelta, messages);
  const native = rules.map((rule) => ({ rule, expression: jsExpression(rule) }));
  const js = measure((text) => {
    const normalized = text.normalize('NFC');
    return native.reduce((sum, { rule, expression }) => sum + (expression.test(normalized) ? rule.weight : 0), 0);
  }, messages);
  if (re2.checksum !== js.checksum) throw new Error(`RE2 and RegExp disagree on the scores (${re2.checksum} vs ${js.checksum})`);
  return {
    rules: rules.length,
    messages,
    averageMessageLength: Math.round(SAMPLE_TEXTS.reduce((sum, text) => sum + text.length, 0) / SAMPLE_TEXTS.length),
    re2MessagesPerSecond: re2.messagesPerSecond,
    jsRegExpMessagesPerSecond: js.messagesPerSecond,
    re2VersusRegExp: Number((re2.messagesPerSecond / js.messagesPerSecond).toFixed(2)),
    pathological: pathological(),
  };
};
