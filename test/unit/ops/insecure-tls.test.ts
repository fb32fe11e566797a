import { describe, expect, it } from 'vitest';
import { warnInsecureTls } from '../../../src/main.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import type { Logger } from '../../../src/lib/logger.ts';

function capture(): { log: Logger; warnings: [object, string | undefined][] } {
  const warnings: [object, string | undefined][] = [];
  const log: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (o, m) => void warnings.push([o, m]), child: () => log };
  return { log, warnings };
}

describe('warnInsecureTls', () => {
  it('warns once per SMSC configured with reject_unauthorized: false, and only for those', () => {
    const config = validateConfig({
      smscs: [
        { name: 'open', host: 'smsc-a.example', system_id: 's', tls: { reject_unauthorized: false } },
        { name: 'checked', host: 'smsc-b.example', system_id: 's', tls: true },
        { name: 'plain', host: 'smsc-c.example', system_id: 's' },
        { name: 'off', host: 'smsc-d.example', system_id: 's', tls: { enabled: false, reject_unauthorized: false } },
      ],
      routes: [{ name: 'r', smscs: ['open'], tps: 1 }],
    });
    const { log, warnings } = capture();
    warnInsecureTls(config, log);
    expect(warnings).toEqual([[{ smsc: 'open', host: 'smsc-a.example' }, expect.stringMatching(/^TLS certificate checks are off for this SMSC \(tls\.reject_unauthorized: false\)/)]]);
  });
});
