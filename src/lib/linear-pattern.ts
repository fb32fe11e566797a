/**
 * Regular expressions that run in time linear in the text (issue 9, "Regex rules that cannot
 * freeze the daemon").
 *
 * Rule patterns come from config and are run on whatever customers send. V8's RegExp backtracks:
 * the plausible `^(\w+\s?)*$` on 28 letters and a `!` froze the daemon (binds, HTTP, intake) for
 * 12 s. re2js is a pure-JS port of RE2/J: an automaton engine whose matching time is linear in the
 * text whatever the pattern, so no reply can stall the event loop. The price is RE2's syntax: no
 * backreferences (`\1`, `\k<name>`) and no lookarounds (`(?=`, `(?!`, `(?<=`, `(?<!`), which need
 * backtracking by nature. `linearPatternProblem` names those at config validation, so a pattern
 * the engine cannot run stops the start with its key path instead of failing on the first reply.
 *
 * Chosen over a worker thread with a time budget per match: a budget still spends its whole
 * budget per bad reply (and a worker per match or a pool to manage), where RE2 spends microseconds.
 */
import { RE2JS } from 're2js';
import { ParleyError } from './errors.ts';

/** What a match gives rules: the named groups that took part in it. */
export interface PatternMatch {
  readonly groups: Readonly<Record<string, string>>;
}

export class LinearPattern {
  private readonly named: readonly string[];

  private constructor(
    private readonly re: RE2JS,
    /** The source as written in config. */
    readonly source: string,
    readonly flags: string,
  ) {
    this.named = Object.keys(re.namedGroups());
    // The engine builds its automaton lazily: the first match of a long text paid ~150 ms of
    // that (and of JIT warm-up) in the middle of a batch. Paid here, when config is read.
    re.test('warm up the automaton: 0123456789 ABC abc !?');
  }

  /**
   * Compiles `source` with `flags` of `i` (case-insensitive), `s` (dot matches newline) and `m`
   * (`^`/`$` at line ends); `u` is always on (RE2 reads code points) and `g`/`y` mean nothing to a
   * stateless match, so both are accepted and ignored. Throws `ParleyError('invalid_pattern')`.
   */
  static compile(source: string, flags = ''): LinearPattern {
    let bits = 0;
    for (const f of flags) {
      if (f === 'i') bits |= RE2JS.CASE_INSENSITIVE;
      else if (f === 's') bits |= RE2JS.DOTALL;
      else if (f === 'm') bits |= RE2JS.MULTILINE;
      else if (f !== 'u' && f !== 'g' && f !== 'y') {
        throw new ParleyError('invalid_pattern', `unknown pattern flag ${JSON.stringify(f)}: use i, s or m`);
      }
    }
    const problem = unsupportedSyntax(source);
    if (problem !== undefined) throw new ParleyError('invalid_pattern', problem);
    try {
      return new LinearPattern(RE2JS.compile(source, bits), source, flags);
    } catch (err) {
      throw new ParleyError('invalid_pattern', `is not a valid RE2 regular expression: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * The first match anywhere in `text` (anchor with `^`/`$`), or null. Never backtracks. Whether
   * it matches is answered by the DFA, a few ms for 10 kB whatever the pattern; only a match with
   * named groups then runs the (slower, still linear) capturing matcher to fill them.
   */
  exec(text: string): PatternMatch | null {
    if (!this.re.test(text)) return null;
    if (this.named.length === 0) return { groups: {} };
    const m = this.re.matcher(text);
    if (!m.find()) return null;
    const groups: Record<string, string> = {};
    for (const name of this.named) {
      const value = m.group(name);
      if (value !== null) groups[name] = value;
    }
    return { groups };
  }

}

/**
 * Why `source` cannot be a rule pattern, or undefined when it can: the reason says what the
 * linear-time engine does not run (a backreference, a lookaround) or RE2's syntax error.
 */
export function linearPatternProblem(source: string, flags = 'i'): string | undefined {
  try {
    LinearPattern.compile(source, flags);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Constructs RE2 rejects with a terse syntax error, named here with what to do instead. Scanned
 * outside character classes and past escapes, so `[(?=]` and `\(?=` are not flagged.
 */
function unsupportedSyntax(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) {
        return `uses a backreference (\\${next}), which the linear-time engine (RE2) cannot run: match the text without referring back to a group`;
      }
      if (!inClass && next === 'k' && source[i + 2] === '<') {
        return 'uses a named backreference (\\k<...>), which the linear-time engine (RE2) cannot run: match the text without referring back to a group';
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (source[i + 1] === ']') i++;
      continue;
    }
    if (c === '(' && source[i + 1] === '?') {
      const look = source.slice(i + 2, i + 4);
      const kind =
        look.startsWith('=') ? 'a lookahead (?=' : look.startsWith('!') ? 'a negative lookahead (?!' : look === '<=' ? 'a lookbehind (?<=' : look === '<!' ? 'a negative lookbehind (?<!' : undefined;
      if (kind !== undefined) {
        return `uses ${kind}...), which the linear-time engine (RE2) cannot run: match the surrounding text instead, or use a second rule`;
      }
    }
  }
  return undefined;
}
