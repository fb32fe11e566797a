import { describe, expect, it } from 'vitest';
import { checkTemplate, renderTemplate, templatePaths, type TemplateValues } from '../../../src/inbound/template.ts';

const values: TemplateValues = {
  metadata: {
    name: 'Ana',
    appointment: { at: '15:00', room: 4, confirmed: false },
    items: [{ sku: 'A-1' }, { sku: 'B-2' }],
    nothing: null,
    'order-id': 'X9',
    big: 12345678901234567890n,
    prénom: 'Zoé',
  },
  tags: { campaign: 'spring', stage: 'asked' },
  groups: { order: '1234' },
  reply: { text: 'order 1234', from: '+14155550101', to: '12345' },
  message: { id: 'm-1', metadata: { name: 'Ana' } },
};

describe('renderTemplate', () => {
  const table: [string, string, string][] = [
    ['no placeholders', 'See you then!', 'See you then!'],
    ['metadata', 'Hi {{ metadata.name }}!', 'Hi Ana!'],
    ['no spaces inside the braces', 'Hi {{metadata.name}}!', 'Hi Ana!'],
    ['several spaces and a newline inside', 'Hi {{   metadata.name\n}}!', 'Hi Ana!'],
    ['nested object', 'At {{ metadata.appointment.at }}', 'At 15:00'],
    ['number', 'Room {{ metadata.appointment.room }}', 'Room 4'],
    ['boolean', '{{ metadata.appointment.confirmed }}', 'false'],
    ['bigint', '{{ metadata.big }}', '12345678901234567890'],
    ['array index', '{{ metadata.items.1.sku }}', 'B-2'],
    ['object as JSON', '{{ metadata.appointment }}', '{"at":"15:00","room":4,"confirmed":false}'],
    ['array as JSON', '{{ metadata.items }}', '[{"sku":"A-1"},{"sku":"B-2"}]'],
    ['null is empty', '[{{ metadata.nothing }}]', '[]'],
    ['missing key is empty', 'Hi {{ metadata.surname }}.', 'Hi .'],
    ['missing under a missing key is empty', '[{{ metadata.a.b.c }}]', '[]'],
    ['looking into a string is empty', '[{{ metadata.name.length }}]', '[]'],
    ['hyphen in a key', '{{ metadata.order-id }}', 'X9'],
    ['non-ASCII key', '{{ metadata.prénom }}', 'Zoé'],
    ['tags', '{{ tags.campaign }}/{{ tags.stage }}', 'spring/asked'],
    ['match groups', 'Order {{ groups.order }}', 'Order 1234'],
    ['the reply', '{{ reply.from }} wrote "{{ reply.text }}" to {{ reply.to }}', '+14155550101 wrote "order 1234" to 12345'],
    ['the message answered', '{{ message.id }} {{ message.metadata.name }}', 'm-1 Ana'],
    ['the same placeholder twice', '{{ groups.order }}{{ groups.order }}', '12341234'],
    ['a root alone renders as JSON', '{{ groups }}', '{"order":"1234"}'],
    ['unknown root is empty', '[{{ secrets.key }}]', '[]'],
    ['no prototype look-ups', '[{{ metadata.constructor }}][{{ metadata.__proto__ }}][{{ tags.toString }}]', '[][][]'],
    ['no code: an expression is left as written', 'Hi {{ metadata.name + 1 }}', 'Hi {{ metadata.name + 1 }}'],
    ['no code: a call is left as written', '{{ process.exit() }}', '{{ process.exit() }}'],
    ['empty braces are left as written', 'a {{}} b {{ }}', 'a {{}} b {{ }}'],
    ['an unclosed {{ is left as written', 'Hi {{ metadata.name', 'Hi {{ metadata.name'],
    ['a lone }} is left as written', 'a }} b', 'a }} b'],
    ['\\{{ is a literal {{', 'Write \\{{ metadata.name }} in templates', 'Write {{ metadata.name }} in templates'],
    ['other backslashes stay', 'a\\b \\{ {{ metadata.name }}', 'a\\b \\{ Ana'],
    ['triple braces keep the outer ones', '{{{ metadata.name }}}', '{Ana}'],
    ['a value that looks like a placeholder is not rendered again', '{{ metadata.x }}', '{{ tags.campaign }}'],
  ];
  it.each(table)('%s', (_name, template, expected) => {
    const withX: TemplateValues = { ...values, metadata: { ...values.metadata, x: '{{ tags.campaign }}' } };
    expect(renderTemplate(template, withX)).toBe(expected);
  });

  it('renders with no values at all', () => {
    expect(renderTemplate('Hi {{ metadata.name }}, {{ reply.text }}', {})).toBe('Hi , ');
  });

  it('renders a value JSON cannot express (a cycle) as empty', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(renderTemplate('[{{ metadata.c }}]', { metadata: { c: cyclic } })).toBe('[]');
  });
});

describe('templatePaths', () => {
  it.each([
    ['', []],
    ['plain text', []],
    ['Hi {{ metadata.name }}, order {{groups.order}}, again {{ metadata.name }}', ['metadata.name', 'groups.order']],
    ['{{ tags.a }} \\{{ tags.escaped }} {{ not a path }} {{ reply.text', ['tags.a']],
    ['{{ unknown.root }}', ['unknown.root']],
  ] as [string, string[]][])('%j -> %j', (template, expected) => {
    expect(templatePaths(template)).toEqual(expected);
  });
});

describe('checkTemplate', () => {
  it.each([
    'See you then!',
    'Hi {{ metadata.name }}, order {{ groups.order }} ({{ tags.stage }}, {{ message.id }})',
    '{{ reply.text }} {{ reply.from }} {{ reply.to }}',
    'Literal \\{{ like this }}',
  ])('accepts %j', (template) => {
    expect(checkTemplate(template)).toEqual([]);
  });

  it.each([
    ['{{ metadata.name + 1 }}', /not a placeholder/],
    ['{{}}', /not a placeholder/],
    ['{{ secrets.key }}', /"secrets" is unknown; a path starts with one of metadata, tags, groups, reply, message/],
    ['{{ reply.body }}', /reply has reply.text, reply.from, reply.to/],
    ['{{ reply }}', /reply has/],
    ['{{ reply.text.length }}', /reply has/],
    ['Hi {{ metadata.name', /"\{\{" at 3 is not closed/],
    ['{{ a {{ metadata.name }}', /"\{\{" at 0 is not closed/],
  ] as [string, RegExp][])('refuses %j', (template, reason) => {
    const problems = checkTemplate(template);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(reason);
  });

  it('reports every problem', () => {
    expect(checkTemplate('{{ x.y }} {{ reply.z }} {{ a b }} {{ open')).toHaveLength(4);
  });
});
