/**
 * `${VAR}` in the configuration file, replaced from the environment; `$${` stands for a literal `${`.
 *
 * The values are put in after parsing, value by value, not spliced into the text: a secret
 * containing `#`, `: `, quotes or a newline stays exactly what the environment holds (spliced into
 * the text it would end the value, start a comment or break the YAML), a `${VAR}` in a comment is
 * left alone, and `{ password: ${PW} }` works in flow style too. To get there, each reference is
 * first swapped for a marker made of private-use characters that YAML reads as plain text
 * anywhere, and markers in the parsed values are then replaced by the variables' values.
 * A substituted value is always a string; fields that take numbers, booleans or durations also
 * accept them as strings, so `port: ${SMSC_PORT}` works.
 */
import { type Document, LineCounter, isPair, isScalar, isSeq, visit } from 'yaml';
import type { ConfigProblem } from './config-error.ts';

export type Env = Readonly<Record<string, string | undefined>>;

const OPEN = '\uE000';
const CLOSE = '\uE001';
const ESCAPED = '\uE002';
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const MARKER = /\uE000([A-Za-z0-9_]+)\uE001|\uE002/g;

/** The file's text with every reference swapped for a marker; nothing else changes (not even lengths of lines). */
export function markReferences(text: string): string {
  return text.replace(REFERENCE, (match, name: string | undefined) => (name === undefined ? ESCAPED : `${OPEN}${name}${CLOSE}`));
}

/** Puts the original text back in place of markers (for keys, which are never substituted). */
function unmark(text: string): string {
  return text.replace(MARKER, (match, name: string | undefined) => (name === undefined ? '${' : `\${${name}}`));
}

/** Replaces the markers in one value; unset variables and stray `${` are returned, not thrown. */
function substituteMarked(text: string, env: Env): { value: string; unset: string[]; malformed: boolean } {
  const unset: string[] = [];
  const malformed = text.includes('${');
  const value = text.replace(MARKER, (match, name: string | undefined) => {
    if (name === undefined) return '${';
    const found = env[name];
    if (found === undefined) unset.push(name);
    return found ?? `\${${name}}`;
  });
  return { value, unset, malformed };
}


/**
 * Substitutes in every string value of `doc`, parsed from `markReferences(text)`; keys get their
 * text back unsubstituted. Returns what could not be substituted, with key paths and lines.
 */
export function substituteInDocument(doc: Document, lineCounter: LineCounter, env: Env): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (typeof node.value !== 'string') return;
      if (key === 'key') {
        node.value = unmark(node.value);
        return;
      }
      if (!node.value.includes('$') && !/[\uE000-\uE002]/.test(node.value)) return;
      const { value, unset, malformed } = substituteMarked(node.value, env);
      const line = node.range === null || node.range === undefined ? undefined : lineCounter.linePos(node.range[0]).line;
      const where = line === undefined ? '' : ` (line ${line})`;
      const path = keyPath(ancestors, node);
      for (const name of unset) {
        problems.push({ path, reason: `environment variable ${name} is not set, needed by \${${name}}${where}` });
      }
      if (malformed) {
        problems.push({ path, reason: `"\${" must start a reference such as \${NAME} (write $\${ for a literal \${)${where}` });
      }
      node.value = value;
    },
  });
  return problems;
}
/** `smscs[0].password` for a node, from the ancestors `visit` passes. */
function keyPath(ancestors: readonly unknown[], node: unknown): string {
  const chain = [...ancestors, node];
  let path = '';
  chain.forEach((item, i) => {
    if (isSeq(item)) {
      path += `[${item.items.indexOf(chain[i + 1] as never)}]`;
    } else if (isPair(item)) {
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
      path = path === '' ? key : `${path}.${key}`;
    }
  });
  return path;
}
