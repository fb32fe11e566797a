import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/validate.ts';
import { configWarnings, helpReplyOf, STANDARD_HELP_REPLY } from '../../../src/config/warnings.ts';
import { ConfigError } from '../../../src/config/config-error.ts';
import { DEFAULT_COMPLIANCE } from '../../../src/inbound/compliance.ts';

const base = { smscs: [{ name: 's', host: '127.0.0.1', system_id: 'p' }], routes: [{ name: 'r', smscs: ['s'], tps: 1 }] };
const withNumbers = (numbers: unknown[], extra: Record<string, unknown> = {}) => validateConfig({ ...base, ...extra, numbers });

describe('HELP text warnings', () => {
  it('the standard HELP text is the compliance default, and lacks brand and contact', () => {
    expect(STANDARD_HELP_REPLY).toBe(DEFAULT_COMPLIANCE.helpReply);
    const warnings = configWarnings(withNumbers([{ address: '12345' }]));
    expect(warnings.map((w) => w.path)).toEqual(['numbers[0].compliance.brand', 'numbers[0].compliance.help_reply']);
    expect(warnings[1]!.message).toMatch(/no contact/);
  });

  it('brand and contact build a HELP text that passes', () => {
    const config = withNumbers([{ address: '12345', compliance: { brand: 'Acme', contact: '+1 415 555 0100' } }]);
    expect(helpReplyOf(config.numbers[0]!)).toBe('Acme: help at +1 415 555 0100. Reply STOP to unsubscribe.');
    expect(configWarnings(config)).toEqual([]);
  });

  it.each([
    ['Acme support: help@acme.example. Reply STOP to opt out.', []],
    ['Acme: call 0800 123 456.', ['does not say how to stop']],
    ['Reply STOP to end. Help: www.example.com', ['does not name the brand']],
    ['Acme here. Reply STOP to unsubscribe.', ['no contact']],
    ['', ['is empty']],
  ])('%j', (help_reply, problems) => {
    const warnings = configWarnings(withNumbers([{ address: '12345', compliance: { brand: 'Acme', help_reply } }]));
    expect(warnings).toHaveLength(problems.length);
    problems.forEach((p, i) => expect(warnings[i]!.message).toContain(p));
  });

  it('a number with its own opt-out words is told about them', () => {
    const config = withNumbers([{ address: '12345', compliance: { brand: 'Acme', opt_out: ['ALTO'], help_reply: 'Acme: acme.example. Responde ALTO para salir.' } }]);
    expect(configWarnings(config)).toEqual([]);
  });
});

describe('numbers[].intents', () => {
  it('defaults', () => {
    expect(withNumbers([{ address: '12345' }]).numbers[0]!.intents).toEqual({ threshold: 0.6, timeZone: 'UTC' });
  });

  it.each([
    [{ threshold: 1.5 }, 'numbers[0].intents.threshold', 'from 0 to 1'],
    [{ time_zone: 'Mars/Olympus' }, 'numbers[0].intents.time_zone', 'IANA time zone'],
    [{ nlu_webhook: 'nlu' }, 'numbers[0].intents.nlu_webhook', 'names no webhook'],
  ])('%j is refused at %s', (intents, path, reason) => {
    let error: unknown;
    try {
      withNumbers([{ address: '12345', intents }]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain(reason);
  });

  it('accepts a zone, a threshold and a configured NLU webhook', () => {
    const config = withNumbers([{ address: '12345', intents: { threshold: 0.8, time_zone: 'Europe/Paris', nlu_webhook: 'nlu' } }], {
      webhooks: [{ name: 'nlu', url: 'http://127.0.0.1:1/nlu', secret: 'nlu-secret-0123456789' }],
    });
    expect(config.numbers[0]!.intents).toEqual({ threshold: 0.8, timeZone: 'Europe/Paris', nluWebhook: 'nlu' });
  });
});
