import { describe, expect, it } from 'vitest';
import {
  classifyCompliance,
  DEFAULT_COMPLIANCE,
  type ComplianceKind,
  type ComplianceSettings,
} from '../../../src/inbound/compliance.ts';
import { gsm7SeptetCount } from '../../../src/smpp/text/gsm7.ts';

const D = DEFAULT_COMPLIANCE;

describe('DEFAULT_COMPLIANCE', () => {
  it('lists the union of what carriers and APIs honour', () => {
    expect(D.optOut).toEqual([
      'STOP',
      'STOPALL',
      'STOP ALL',
      'UNSUBSCRIBE',
      'UNSUB',
      'CANCEL',
      'END',
      'QUIT',
      'OPTOUT',
      'OPT-OUT',
      'REVOKE',
      'REMOVE',
      'OPT OUT',
      'ARRET',
      'ARRÊT',
      'ARRETER',
      'ARRÊTER',
      'DESABONNER',
      'DÉSABONNER',
      'BAJA',
      'ALTO',
      'PARAR',
      'DETENER',
      'CANCELAR',
      'DESUSCRIBIR',
      'STOPP',
      'ABMELDEN',
      'SAIR',
    ]);
    expect(D.optIn).toEqual(['START', 'UNSTOP', 'RESUME']);
    expect(D.optInWhenOptedOut).toEqual(['YES']);
    expect(D.help).toEqual(['HELP', 'INFO', 'AYUDA', 'AIDE', 'HILFE', 'AJUDA']);
    expect(D.scope).toBe('number');
  });

  it.each([
    ['optOutReply', D.optOutReply],
    ['optInReply', D.optInReply],
    ['helpReply', D.helpReply],
  ])('%s is GSM-7 and fits one message', (_name, text) => {
    const septets = gsm7SeptetCount(text);
    expect(septets).toBeDefined();
    expect(septets).toBeLessThanOrEqual(160);
  });

  it('cannot be changed by accident', () => {
    expect(Object.isFrozen(D)).toBe(true);
    expect(Object.isFrozen(D.optOut)).toBe(true);
    expect(Object.isFrozen(D.optIn)).toBe(true);
    expect(Object.isFrozen(D.help)).toBe(true);
  });
});

type Expected = { kind: ComplianceKind; keyword: string } | undefined;
const out = (keyword: string): Expected => ({ kind: 'opt_out', keyword });
const inn = (keyword: string): Expected => ({ kind: 'opt_in', keyword });
const help = (keyword: string): Expected => ({ kind: 'help', keyword });

function classify(text: string, optedOut = false, settings: ComplianceSettings = D): Expected {
  const m = classifyCompliance(text, settings, optedOut);
  return m && { kind: m.kind, keyword: m.keyword };
}

describe('classifyCompliance with the defaults: every keyword', () => {
  const keywords: [string, Expected][] = [
    ...D.optOut.map((k): [string, Expected] => [k, out(k)]),
    ...D.optIn.map((k): [string, Expected] => [k, inn(k)]),
    ...D.help.map((k): [string, Expected] => [k, help(k)]),
  ];
  describe.each([false, true])('customer opted out: %s', (optedOut) => {
    it.each(keywords)('%j as written', (text, expected) => {
      expect(classify(text, optedOut)).toEqual(expected);
    });
    it.each(keywords)('%j in lower case', (text, expected) => {
      expect(classify(text.toLowerCase(), optedOut)).toEqual(expected);
    });
    it.each(keywords)('%j in mixed case with "!" and spaces', (text, expected) => {
      const mixed = [...text].map((c, i) => (i % 2 === 0 ? c.toLowerCase() : c)).join('');
      expect(classify(`  ${mixed}! `, optedOut)).toEqual(expected);
    });
    it.each(keywords)('%j followed by "."', (text, expected) => {
      expect(classify(`${text}.`, optedOut)).toEqual(expected);
    });
    it.each(keywords)('%j in full-width forms', (text, expected) => {
      const fullWidth = text.normalize('NFD').replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
      expect(fullWidth).not.toBe(text);
      expect(classify(fullWidth, optedOut)).toEqual(expected);
    });
    it.each(keywords)('%j followed by another word is not a keyword', (text) => {
      expect(classify(`${text} please`, optedOut)).toBeUndefined();
    });
  });
});

describe('classifyCompliance with the defaults: variations', () => {
  const table: [string, string, boolean, Expected][] = [
    ['"STOP ALL" with two spaces', 'STOP  ALL', false, out('STOP ALL')],
    ['"stop all" across a line break', 'stop\nall', false, out('STOP ALL')],
    ['opt out with an en dash', 'opt–out', false, out('OPT-OUT')],
    ['opt out with a space is listed (FCC 2024 order)', 'opt out', false, out('OPT OUT')],
    ['quoted STOP', '"Stop"', false, out('STOP')],
    ['STOP with trailing emoji is not a keyword', 'STOP 🛑', false, undefined],
    ['STOP with emoji glued on is not a keyword', 'STOP🛑', false, undefined],
    ['stop please', 'stop please', false, undefined],
    ['please stop', 'please stop', false, undefined],
    ['STOPP (German, and a typo) is listed on its own', 'STOPP', false, out('STOPP')],
    ['arrêt as phones write it', 'Arrêt', false, out('ARRÊT')],
    ['Arret', 'Arret', false, out('ARRET')],
    ['YES from a subscribed customer goes on to the rules', 'YES', false, undefined],
    ['YES from an opted-out customer opts in', 'YES', true, inn('YES')],
    ['yes! from an opted-out customer opts in', ' yes! ', true, inn('YES')],
    ['YES please is not a keyword even when opted out', 'YES please', true, undefined],
    ['START from a subscribed customer still confirms', 'START', false, inn('START')],
    ['empty', '', false, undefined],
    ['whitespace', '  \n ', true, undefined],
    ['punctuation only', '?', false, undefined],
    ['an ordinary reply', 'See you at 3', false, undefined],
  ];
  it.each(table)('%s', (_name, text, optedOut, expected) => {
    expect(classify(text, optedOut)).toEqual(expected);
  });

  it('returns the configured confirmation for each kind', () => {
    expect(classifyCompliance('stop', D, false)).toEqual({ kind: 'opt_out', keyword: 'STOP', reply: D.optOutReply });
    expect(classifyCompliance('yes', D, true)).toEqual({ kind: 'opt_in', keyword: 'YES', reply: D.optInReply });
    expect(classifyCompliance('info', D, true)).toEqual({ kind: 'help', keyword: 'INFO', reply: D.helpReply });
  });
});

describe('classifyCompliance with custom settings', () => {
  const custom: ComplianceSettings = {
    optOut: ['Basta', 'stop'],
    optIn: ['Volver', 'stop'],
    optInWhenOptedOut: ['SÍ', 'OK'],
    help: ['Ayuda', 'Volver', 'OK'],
    optOutReply: 'Baja confirmada.',
    optInReply: 'Alta confirmada.',
    helpReply: 'Responda BASTA para darse de baja.',
    scope: 'global',
  };
  const table: [string, string, boolean, Expected][] = [
    ['a custom opt-out, keyword as configured', 'BASTA!', false, out('Basta')],
    ['the default list no longer applies', 'UNSUBSCRIBE', false, undefined],
    ['opt-out wins over opt-in for the same word', 'STOP', true, out('stop')],
    ['opt-in wins over help for the same word', 'volver', false, inn('Volver')],
    ['a custom conditional opt-in while opted out', 'sí', true, inn('SÍ')],
    ['a custom conditional opt-in while subscribed falls to help', 'ok', false, help('OK')],
    ['conditional opt-in wins over help while opted out', 'ok', true, inn('OK')],
    ['YES is no longer a conditional opt-in', 'yes', true, undefined],
    ['help', 'ayuda?', false, help('Ayuda')],
  ];
  it.each(table)('%s', (_name, text, optedOut, expected) => {
    expect(classify(text, optedOut, custom)).toEqual(expected);
  });

  it('uses the custom confirmations', () => {
    expect(classifyCompliance('basta', custom, false)?.reply).toBe('Baja confirmada.');
    expect(classifyCompliance('volver', custom, true)?.reply).toBe('Alta confirmada.');
    expect(classifyCompliance('ayuda', custom, true)?.reply).toBe('Responda BASTA para darse de baja.');
  });

  it('treats YES as the conditional opt-in when settings do not say', () => {
    const { optInWhenOptedOut: _ignored, ...withoutConditional } = custom;
    expect(classify('yes', true, withoutConditional)).toEqual(inn('YES'));
    expect(classify('yes', false, withoutConditional)).toBeUndefined();
  });

  it('an empty conditional list turns YES off', () => {
    expect(classify('yes', true, { ...D, optInWhenOptedOut: [] })).toBeUndefined();
  });

  it('ignores entries that are only punctuation', () => {
    expect(classify('?', false, { ...D, help: ['?', 'HELP'] })).toBeUndefined();
  });
});
