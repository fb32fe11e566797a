import { describe, expect, it } from 'vitest';
import { chooseEncoding, type DefaultAlphabet } from '../../../../src/smpp/text/index.ts';

describe('chooseEncoding', () => {
  it.each<[string, DefaultAlphabet, number, string, string]>([
    ['Hello', 'gsm7', 0, 'gsm7', '48656c6c6f'],
    ['€5_', 'gsm7', 0, 'gsm7', '1b653511'],
    ['ΔΦΓ', 'gsm7', 0, 'gsm7', '101213'],
    ['Hello 😀', 'gsm7', 8, 'ucs2', '00480065006c006c006f0020d83dde00'],
    ['Привет', 'gsm7', 8, 'ucs2', '041f04400438043204350442'],
    // Ω is GSM but μ is not: the whole text goes UCS-2
    ['Ωμ', 'gsm7', 8, 'ucs2', '03a903bc'],
    // lowercase ç is not GSM; it is never folded into Ç (0x09)
    ['ç', 'gsm7', 8, 'ucs2', '00e7'],
    ['a_b', 'ascii', 0, 'ascii', '615f62'],
    ['é', 'ascii', 8, 'ucs2', '00e9'],
    ['é', 'latin1', 0, 'latin1', 'e9'],
    ['€', 'latin1', 8, 'ucs2', '20ac'],
  ])('%j with default %s -> dc %d %s', (text, smscDefault, dataCoding, alphabet, bytes) => {
    const encoded = chooseEncoding(text, smscDefault);
    expect(encoded.dataCoding).toBe(dataCoding);
    expect(encoded.alphabet).toBe(alphabet);
    expect(encoded.bytes.toString('hex')).toBe(bytes);
  });
});
