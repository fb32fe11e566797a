import { describe, expect, it } from 'vitest';
import { indexKeywords, matchKeyword, normaliseKeyword } from '../../../src/inbound/keyword.ts';

describe('normaliseKeyword', () => {
  const table: [string, string, string][] = [
    ['plain', 'STOP', 'STOP'],
    ['lower case', 'stop', 'STOP'],
    ['mixed case', 'sToP', 'STOP'],
    ['surrounding whitespace, tabs and newlines', ' \t STOP \r\n', 'STOP'],
    ['full-width letters (NFKC)', 'ＳＴＯＰ', 'STOP'],
    ['full-width lower case, ideographic spaces and full-width "!"', '\u3000ｓｔｏｐ\u3000！', 'STOP'],
    ['ligature (NFKC)', 'ﬁn', 'FIN'],
    ['German sharp s folds to SS', 'straße', 'STRASSE'],
    ['long s folds to S', 'ſtop', 'STOP'],
    ['Turkish dotless i: the same answer in any locale', 'ınfo', 'INFO'],
    ['dotted i is I whatever the locale', 'info', 'INFO'],
    ['accents are kept', 'arrêt', 'ARRÊT'],
    ['inner whitespace collapses', 'STOP  \t ALL', 'STOP ALL'],
    ['a newline inside is a space', 'STOP\nALL', 'STOP ALL'],
    ['no-break space inside', 'STOP\u00a0ALL', 'STOP ALL'],
    ['trailing "!"', 'stop!', 'STOP'],
    ['repeated trailing punctuation', 'stop!!!?!', 'STOP'],
    ['trailing "." after a space', 'Stop .', 'STOP'],
    ['trailing ellipsis character', 'stop…', 'STOP'],
    ['trailing , ; : ) \' "', 'stop,;:)\'"', 'STOP'],
    ['quoted', '"STOP"', 'STOP'],
    ['curly quotes', '“stop”', 'STOP'],
    ['guillemets with French spacing', '« ARRET ! »', 'ARRET'],
    ['Spanish inverted marks', '¡alto!', 'ALTO'],
    ['asterisks', '*STOP*', 'STOP'],
    ['leading dots', '...stop', 'STOP'],
    ['full-width ？', 'ＨＥＬＰ？', 'HELP'],
    ['inner punctuation is kept', 'opt-out', 'OPT-OUT'],
    ['an en dash is a hyphen', 'opt–out', 'OPT-OUT'],
    ['an em dash is a hyphen', 'opt—out', 'OPT-OUT'],
    ['a curly apostrophe is an apostrophe', 'don’t', "DON'T"],
    ['zero-width space at the end', 'STOP\u200b', 'STOP'],
    ['byte-order mark at the start', '\ufeffSTOP', 'STOP'],
    ['soft hyphen inside', 'ST\u00adOP', 'STOP'],
    ['emoji is not punctuation', 'STOP 👍', 'STOP 👍'],
    ['emoji then "!": the "!" goes, the emoji stays', 'stop🛑!', 'STOP🛑'],
    ['symbols are not punctuation', 'STOP+', 'STOP+'],
    ['other words stay', 'stop please', 'STOP PLEASE'],
    ['digits', ' 1. ', '1'],
    ['digits in brackets', '(2)', '2'],
    ['full-width digit', '１', '1'],
    ['empty', '', ''],
    ['whitespace only', ' \t\n', ''],
    ['punctuation only', '?!…', ''],
  ];
  it.each(table)('%s: %j -> %j', (_name, text, expected) => {
    expect(normaliseKeyword(text)).toBe(expected);
  });

  it('is idempotent', () => {
    for (const [, text] of table) {
      const once = normaliseKeyword(text);
      expect(normaliseKeyword(once)).toBe(once);
    }
    // toUpperCase can produce a decomposed sequence ("ǰ" -> "J" + combining caron): NFKC runs after it.
    expect(normaliseKeyword(normaliseKeyword('ǰ'))).toBe(normaliseKeyword('ǰ'));
  });

  it('does not depend on the process locale (toUpperCase, not toLocaleUpperCase)', () => {
    // A Turkish locale would turn "i" into "İ" with toLocaleUpperCase; the keyword must stay INFO.
    expect('info'.toLocaleUpperCase('tr')).not.toBe('INFO');
    expect(normaliseKeyword('info')).toBe('INFO');
  });
});

describe('matchKeyword', () => {
  const list = ['STOP', 'stop all', 'Opt-Out', '?!'];

  it.each([
    ['stop', 'STOP'],
    ['STOP ALL', 'stop all'],
    ['Stop  all!', 'stop all'],
    ['OPT–OUT.', 'Opt-Out'],
    ['stop please', undefined],
    ['please stop', undefined],
    ['STOPALL', undefined],
    ['', undefined],
    ['?!', undefined],
    ['!', undefined],
  ] as [string, string | undefined][])('%j -> %j', (text, expected) => {
    expect(matchKeyword(text, list)).toBe(expected);
  });

  it('returns the first entry when two normalise alike', () => {
    expect(matchKeyword('stop', ['Stop', 'STOP'])).toBe('Stop');
  });

  it('indexes a list once per list object', () => {
    const entries = ['YES', 'Y'];
    expect(indexKeywords(entries)).toBe(indexKeywords(entries));
    expect([...indexKeywords(entries)]).toEqual([
      ['YES', 'YES'],
      ['Y', 'Y'],
    ]);
  });
});
