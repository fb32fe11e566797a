import { describe, expect, it } from 'vitest';
import { normaliseAddress, normaliseNumber, normaliseSender } from '../../../src/domain/address.ts';
import { Router, defaultFromOf } from '../../../src/outbound/router.ts';
import type { RouteConfig } from '../../../src/config/types.ts';

describe('one spelling of an address', () => {
  it.each([
    // raw, normaliseAddress, normaliseNumber, normaliseSender
    ['14155550101', '14155550101', '14155550101', '14155550101'],
    ['+14155550101', '14155550101', '14155550101', '14155550101'],
    ['+1 (415) 555-0101', '14155550101', '14155550101', '14155550101'],
    ['+44 7700 900123', '447700900123', '447700900123', '447700900123'],
    ['\t+1 415 555 0101 ', '14155550101', '14155550101', '14155550101'],
    ['12345', '12345', '12345', '12345'],
    ['007', '007', '007', '007'],
    // Too short or too long to be a number: kept by the lenient normaliser, refused by the strict ones.
    ['12', '12', undefined, undefined],
    ['+123456789012345678901', '123456789012345678901', undefined, undefined],
    // Alphanumeric sender ids are kept as given, dashes and spaces included.
    ['Acme', 'Acme', undefined, 'Acme'],
    ['Acme Shop', 'Acme Shop', undefined, 'Acme Shop'],
    ['ACME-1', 'ACME-1', undefined, 'ACME-1'],
    ['TooLongSenderId', 'TooLongSenderId', undefined, undefined],
    // A plus that does not start a number is not a number.
    ['++1415', '++1415', undefined, undefined],
    ['1415+1', '1415+1', undefined, undefined],
    ['', '', undefined, undefined],
  ] as const)('%j -> %j (number %j, sender %j)', (raw, address, number, sender) => {
    expect(normaliseAddress(raw)).toBe(address);
    expect(normaliseNumber(raw)).toBe(number);
    expect(normaliseSender(raw)).toBe(sender);
  });

  it('is idempotent', () => {
    for (const raw of ['+1 (415) 555-0101', 'Acme Shop', '+44 7700 900123', '12']) {
      expect(normaliseAddress(normaliseAddress(raw))).toBe(normaliseAddress(raw));
    }
  });
});

describe("a route's addresses", () => {
  const route = (name: string, prefixes: string[], defaultFrom?: string): RouteConfig =>
    ({ name, prefixes, smscs: ['s'], defaultFrom, uncertainSubmit: 'retry', uncertainMaxAttempts: 3 }) as unknown as RouteConfig;

  it.each([
    ['+1 415', '14155550101', 'us-west'],
    ['+1', '12125550101', 'us'],
    ['+44 (0)', '4405550101', 'uk'],
    ['*', '33155550101', 'rest'],
  ])('prefix %j: %s goes by %s', (_prefix, to, expected) => {
    const router = new Router([route('us-west', ['+1 415']), route('us', ['+1']), route('uk', ['+44 (0)']), route('rest', ['*'])]);
    expect(router.choose(to)).toMatchObject({ ok: true, route: { name: expected } });
  });

  it.each([
    ['+1 (415) 555-0100', '14155550100'],
    ['14155550100', '14155550100'],
    ['Acme', 'Acme'],
    [undefined, undefined],
  ])('default_from %j is sent as %j', (defaultFrom, expected) => {
    expect(defaultFromOf(route('r', ['*'], defaultFrom))).toBe(expected);
  });
});
