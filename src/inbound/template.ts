/**
 * Reply templates: "Thanks {{ metadata.name }}, order {{ groups.order }} is on its way." A
 * placeholder is `{{ path }}` (spaces optional), the path dot-separated names looked up in the
 * values: the outbound message's `metadata`, the conversation's `tags`, the rule's regex `groups`,
 * the customer's `reply` ({ text, from, to }) and, when known, the `message` being answered.
 *
 * Deliberately not a template language: no expressions, filters, conditionals or code, only
 * property look-ups, so a template from a message payload can do nothing but read values.
 * - A missing value, null or undefined renders as "" ("Hi {{ metadata.name }}" -> "Hi ").
 * - Strings render as they are, numbers, booleans and bigints with `String`, objects and arrays as
 *   compact JSON. Nothing is escaped: the output is an SMS, not HTML.
 * - Look-ups read own properties only: `{{ metadata.constructor }}` or `__proto__` are missing,
 *   never the prototype's. Array items are reached by index (`metadata.items.0.sku`).
 * - `\{{` is a literal `{{` (the backslash is dropped); any other backslash is literal.
 * - Anything between `{{` and `}}` that is not a path (`{{ a b }}`, `{{}}`) and an unclosed `{{`
 *   are left as written; `checkTemplate` reports them so config validation can refuse them.
 */

export interface TemplateValues {
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly tags?: Readonly<Record<string, unknown>>;
  readonly groups?: Readonly<Record<string, string>>;
  readonly reply?: { readonly text: string; readonly from: string; readonly to: string };
  readonly message?: Readonly<Record<string, unknown>>;
}

/** The names a path may start with. */
export const TEMPLATE_ROOTS: readonly string[] = Object.freeze(['metadata', 'tags', 'groups', 'reply', 'message']);
const REPLY_FIELDS: readonly string[] = ['text', 'from', 'to'];

/** `\{{` (an escaped brace pair) or a placeholder with whatever is inside it. */
const TOKEN = /\\\{\{|\{\{([^{}]*)\}\}/g;
/** A name is letters, digits, `_`, `-` or `$` in any script; a path is names joined by dots. */
const PATH = /^[\p{L}\p{N}_$-]+(?:\.[\p{L}\p{N}_$-]+)*$/u;

export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(TOKEN, (token: string, inner: string | undefined) => {
    if (inner === undefined) return '{{';
    const path = inner.trim();
    if (!PATH.test(path)) return token;
    return stringify(lookUp(values, path.split('.')));
  });
}

/** The distinct paths the template's placeholders name, in order of first appearance. */
export function templatePaths(template: string): string[] {
  const paths: string[] = [];
  for (const m of template.matchAll(TOKEN)) {
    const path = m[1]?.trim();
    if (path !== undefined && PATH.test(path) && !paths.includes(path)) paths.push(path);
  }
  return paths;
}

/**
 * What is wrong with a template, one reason per problem (empty when it is fine): placeholders that
 * are not paths, paths outside `TEMPLATE_ROOTS` or `reply`'s fields, and an unclosed `{{`.
 * Whether `groups.x` names a group of the rule's pattern is for the caller to check, with
 * `templatePaths`.
 */
export function checkTemplate(template: string): string[] {
  const problems: string[] = [];
  let end = 0;
  for (const m of template.matchAll(TOKEN)) {
    const before = template.slice(end, m.index);
    if (before.includes('{{')) problems.push(`"{{" at ${end + before.indexOf('{{')} is not closed by "}}"`);
    end = m.index + m[0].length;
    const inner = m[1];
    if (inner === undefined) continue;
    const path = inner.trim();
    if (!PATH.test(path)) {
      problems.push(`${m[0]} is not a placeholder: write {{ name.name }} with letters, digits, _ - or $`);
      continue;
    }
    const [root, field, ...rest] = path.split('.');
    if (root === undefined || !TEMPLATE_ROOTS.includes(root)) {
      problems.push(`${m[0]}: "${root}" is unknown; a path starts with one of ${TEMPLATE_ROOTS.join(', ')}`);
    } else if (root === 'reply' && (field === undefined || !REPLY_FIELDS.includes(field) || rest.length > 0)) {
      problems.push(`${m[0]}: reply has ${REPLY_FIELDS.map((f) => `reply.${f}`).join(', ')}`);
    }
  }
  const tail = template.slice(end);
  if (tail.includes('{{')) problems.push(`"{{" at ${end + tail.indexOf('{{')} is not closed by "}}"`);
  return problems;
}

function lookUp(values: TemplateValues, names: readonly string[]): unknown {
  let at: unknown = values;
  for (const name of names) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, name)) return undefined;
    at = (at as Record<string, unknown>)[name];
  }
  return at;
}

function stringify(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return '';
      try {
        return JSON.stringify(value) ?? '';
      } catch {
        return ''; // a cycle or a throwing toJSON: nothing a template can show
      }
    default:
      return ''; // undefined, functions, symbols
  }
}
