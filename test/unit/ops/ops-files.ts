/**
 * Reading the ops files (Grafana dashboards, Prometheus alert rules) and the PromQL in them, for
 * the dashboard test and the promtool checks: which metrics and labels an expression names, and
 * which ones Parley exports (the registry of `new Metrics()`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { Metrics } from '../../../src/observability/metrics.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DASHBOARDS_DIR = path.join(REPO, 'grafana/dashboards');
export const ALERT_RULES = path.join(REPO, 'config/alerts/parley.rules.yaml');
export const ALERT_RULE_TESTS = path.join(REPO, 'config/alerts/parley.rules.test.yaml');

// ---- Grafana ---------------------------------------------------------------------------------

export interface DatasourceRef {
  readonly type?: string;
  readonly uid?: string;
}

export interface Target {
  readonly refId?: string;
  readonly expr?: string;
  readonly legendFormat?: string;
  readonly datasource?: DatasourceRef;
}

export interface Panel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly datasource?: DatasourceRef;
  readonly gridPos?: { h?: number; w?: number; x?: number; y?: number };
  readonly targets?: readonly Target[];
  /** Panels inside a collapsed row. */
  readonly panels?: readonly Panel[];
}

export interface Variable {
  readonly name?: string;
  readonly type?: string;
  readonly query?: unknown;
  readonly definition?: string;
  readonly datasource?: DatasourceRef;
}

export interface Dashboard {
  readonly uid?: string;
  readonly title?: string;
  readonly schemaVersion?: number;
  readonly panels?: readonly Panel[];
  readonly templating?: { list?: readonly Variable[] };
}

export interface DashboardFile {
  readonly file: string;
  readonly text: string;
}

export function dashboardFiles(): DashboardFile[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, text: readFileSync(path.join(DASHBOARDS_DIR, f), 'utf8') }));
}

/** Every panel, rows and the panels of collapsed rows included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** The PromQL of a query variable (`label_values(...)` and the like), when it has one. */
export function variableQuery(v: Variable): string | undefined {
  if (typeof v.query === 'string') return v.query;
  if (typeof v.query === 'object' && v.query !== null && typeof (v.query as { query?: unknown }).query === 'string') {
    return (v.query as { query: string }).query;
  }
  return v.definition;
}

export interface Expression {
  /** Where it is, for messages: `gateway.json panel 3 "Title" A`. */
  readonly where: string;
  readonly expr: string;
  readonly legendFormat?: string;
}

export function dashboardExpressions(file: string, dashboard: Dashboard): Expression[] {
  const out: Expression[] = [];
  for (const p of allPanels(dashboard)) {
    for (const t of p.targets ?? []) {
      if (typeof t.expr === 'string') {
        out.push({ where: `${file} panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr, ...(t.legendFormat === undefined ? {} : { legendFormat: t.legendFormat }) });
      }
    }
  }
  for (const v of dashboard.templating?.list ?? []) {
    const query = v.type === 'query' ? variableQuery(v) : undefined;
    if (query === undefined) continue;
    // label_values(metric, label): the metric is the expression, the label must be one of its own.
    const lv = /^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$/.exec(query);
    out.push({ where: `${file} variable ${v.name}`, expr: lv ? lv[1]! : query, ...(lv ? { legendFormat: `{{${lv[2]}}}` } : {}) });
  }
  return out;
}

/**
 * A Grafana expression made plain PromQL, so promtool can parse it: the interval variables become
 * durations, other variables `.*` (they only appear in regex matchers).
 */
export function toPlainPromql(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?\w+\}?/g, '.*');
}

// ---- Alert rules -----------------------------------------------------------------------------

export interface AlertRule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr?: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parseYaml(readFileSync(ALERT_RULES, 'utf8')) as { groups?: { name?: string; rules?: AlertRule[] }[] };
  return (doc.groups ?? []).flatMap((g) => g.rules ?? []);
}

// ---- PromQL ----------------------------------------------------------------------------------

/** Words PromQL reserves: aggregations, set operators, modifiers, literals. */
const KEYWORDS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values',
  'limitk', 'limit_ratio', 'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'offset', 'bool', 'atan2', 'inf', 'nan', 'start', 'end',
]);

export interface PromqlNames {
  /** Metric names the expression selects. */
  readonly metrics: string[];
  /** Label names used in matchers, per metric selector. */
  readonly matchers: { metric: string; label: string }[];
  /** Label names in by/without/on/ignoring/group_left/group_right. */
  readonly grouping: string[];
  /** Labels the expression creates (count_values, label_replace, label_join). */
  readonly created: string[];
}

/**
 * The metric and label names in a PromQL expression. Strings are blanked first (matcher values
 * and Grafana variables live there), then ranges, then grouping clauses; what is left as a bare
 * identifier that is not a function call or a keyword is a metric name.
 */
export function promqlNames(expr: string): PromqlNames {
  const created = [
    ...[...expr.matchAll(/count_values\s*\(\s*"(\w+)"/g)].map((m) => m[1]!),
    ...[...expr.matchAll(/label_(?:replace|join)\s*\([^,]+,\s*"(\w+)"/g)].map((m) => m[1]!),
  ];
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  const grouping: string[] = [];
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_all, _kw: string, labels: string) => {
    grouping.push(...labels.split(',').map((l) => l.trim()).filter((l) => l !== ''));
    return ' ';
  });
  const matchers: { metric: string; label: string }[] = [];
  const metrics: string[] = [];
  s = s.replace(/([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}/g, (_all, metric: string | undefined, body: string) => {
    const labels = [...body.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!);
    if (metric !== undefined && !KEYWORDS.has(metric)) {
      metrics.push(metric);
      for (const label of labels) matchers.push({ metric, label });
      return ' ';
    }
    // {__name__="..."} or a bare matcher list: keep the keyword before it, if any.
    return metric === undefined ? ' ' : ` ${metric} `;
  });
  for (const m of s.matchAll(/(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:])(\s*\()?/g)) {
    const name = m[1]!;
    if (m[2] !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    metrics.push(name);
  }
  return { metrics: [...new Set(metrics)], matchers, grouping: [...new Set(grouping)], created };
}

// ---- What Parley exports ---------------------------------------------------------------------

export interface ExportedMetric {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
}

/**
 * The names Parley's /metrics exposes (from the registry of `new Metrics()`, default metrics on),
 * mapped to the metric and its labels: histograms as `_bucket` (with `le`), `_sum` and `_count`,
 * summaries as the name (with `quantile`), `_sum` and `_count`, counters and gauges as named.
 */
export async function exportedMetrics(): Promise<Map<string, ExportedMetric>> {
  const metrics = new Metrics();
  const out = new Map<string, ExportedMetric>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const type = m.type as unknown as string;
    const declared = (metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: readonly string[] } | undefined)?.labelNames ?? [];
    const labels = [...declared];
    const add = (name: string, extra: readonly string[] = []): void => {
      out.set(name, { name: m.name, type, labels: [...labels, ...extra] });
    };
    if (type === 'histogram') {
      add(`${m.name}_bucket`, ['le']);
      add(`${m.name}_sum`);
      add(`${m.name}_count`);
    } else if (type === 'summary') {
      add(m.name, ['quantile']);
      add(`${m.name}_sum`);
      add(`${m.name}_count`);
    } else {
      add(m.name);
    }
  }
  return out;
}

/** Labels Prometheus itself attaches to every scraped series. */
export const TARGET_LABELS: readonly string[] = ['job', 'instance'];

/**
 * What is wrong with the names in one expression: metrics Parley does not export, matcher labels
 * the metric does not have, grouping or legend labels none of its metrics has. Empty when fine.
 */
export function checkNames(e: Expression, exported: ReadonlyMap<string, ExportedMetric>): string[] {
  const problems: string[] = [];
  const names = promqlNames(e.expr);
  if (names.metrics.length === 0) problems.push(`${e.where}: names no metric: ${e.expr}`);
  const known: string[] = [...TARGET_LABELS, ...names.created];
  for (const metric of names.metrics) {
    const m = exported.get(metric);
    if (!m) {
      problems.push(`${e.where}: ${metric} is not a metric Parley exports`);
      continue;
    }
    known.push(...m.labels);
  }
  for (const { metric, label } of names.matchers) {
    const m = exported.get(metric);
    if (m && label !== '__name__' && !m.labels.includes(label) && !TARGET_LABELS.includes(label)) {
      problems.push(`${e.where}: ${metric} has no label ${label}`);
    }
  }
  for (const label of names.grouping) {
    if (!known.includes(label)) problems.push(`${e.where}: groups by ${label}, which none of its metrics has`);
  }
  for (const m of (e.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
    if (!known.includes(m[1]!)) problems.push(`${e.where}: legend uses {{${m[1]}}}, which none of its metrics has`);
  }
  return problems;
}
