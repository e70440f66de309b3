// The step templates: variables only, HTML-escaped in the HTML part, unknown names and any other
// construct between braces reported (the API refuses them when a step is written).
import { describe, expect, it } from '@jest/globals';
import { renderTemplate, templateProblems, type TemplateValues } from '../core/email-sequences/template.ts';

const values: TemplateValues = {
  'lead.name': 'Ana <script>alert("x")</script> & Co\'s', 'lead.email': 'ana@example.com', 'lead.phone': '+5511999990000',
  'lead.company': '', 'lead.stage': 'New', 'lead.score': '75', 'bot.name': 'Bot', 'tenant.name': 'Loja',
};

describe('email-sequence templates', () => {
  it('renders variables, with or without inner spaces, raw in text and escaped in HTML', () => {
    const template = 'Hi {{lead.name}}, {{ tenant.name }} scored you {{lead.score}}.';
    expect(renderTemplate(template, values, 'text')).toBe('Hi Ana <script>alert("x")</script> & Co\'s, Loja scored you 75.');
    expect(renderTemplate(template, values, 'html')).toBe('Hi Ana &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s, Loja scored you 75.');
  });

  it('renders a field the lead has not given as empty', () => {
    expect(renderTemplate('[{{lead.company}}]', values, 'html')).toBe('[]');
  });

  it('leaves the template\'s own markup alone and does not expand a value that looks like a tag', () => {
    expect(renderTemplate('<b>{{lead.name}}</b>', { ...values, 'lead.name': '{{tenant.name}}' }, 'html')).toBe('<b>{{tenant.name}}</b>');
  });

  it('names unknown variables, sorted and once each', () => {
    expect(templateProblems('{{lead.name}} {{lead.password}} {{ process.env }} {{lead.password}}'))
      .toEqual({ unknownVariables: ['lead.password', 'process.env'], malformed: false });
  });

  it('calls sections, unescaped output, partials and expressions malformed', () => {
    for (const template of ['{{#lead.name}}x{{/lead.name}}', '{{{lead.name}}}', '{{> footer}}', '{{lead.score + 1}}', 'open {{ only', 'close }} only']) {
      expect(templateProblems(template).malformed).toBe(true);
    }
    expect(templateProblems('plain text, {single} braces').malformed).toBe(false);
  });
});
