import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { root } from './paths.ts';

/**
 * The metric names the Grafana dashboards and the Prometheus rules of
 * infra/observability read, and the names an app's /metrics exposes, so a
 * test can hold the two together (metrics.e2e.spec.ts): a dashboard that
 * names a metric no app exports shows "No data" and nobody notices.
 */
export const OBSERVABILITY_DIR = path.join(root, 'infra', 'observability');
export const DASHBOARDS_DIR = path.join(OBSERVABILITY_DIR, 'grafana', 'dashboards');
export const RULES_FILE = path.join(OBSERVABILITY_DIR, 'prometheus', 'alerts.yml');

/** Words of PromQL that are not followed by "(" and are not metric names. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names `expr` selects: every identifier left once strings, label
 * matchers ({…}), ranges ([…]), label lists (by/without/on/ignoring/group_left/
 * group_right (…)), `offset` durations and Grafana variables ($job,
 * $__rate_interval) are taken out, that is not a function or aggregation
 * (followed by "(") or a keyword.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (!name || call || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** A Grafana variable query: `label_values(metric{…}, label)` reads `metric`; `label_values(label)` none. */
function variableMetricNames(query: string): string[] {
  const labelValues = /^\s*label_values\(\s*([^,]+),[^,)]+\)\s*$/.exec(query);
  if (labelValues?.[1]) return metricNames(labelValues[1]);
  return /^\s*label_values\(/.test(query) ? [] : metricNames(query);
}

/** Every PromQL expression of a Grafana dashboard: panel targets and query variables, with where each is. */
export function dashboardExpressions(dashboard: unknown): Array<{ expr: string; where: string }> {
  const found: Array<{ expr: string; where: string }> = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) node.forEach((item) => walk(item, where));
    if (!node || typeof node !== 'object' || Array.isArray(node)) return;
    const record = node as Record<string, unknown>;
    const here = typeof record['title'] === 'string' ? `"${record['title']}"` : where;
    if (typeof record['expr'] === 'string') found.push({ expr: record['expr'], where: here });
    for (const [key, value] of Object.entries(record)) walk(value, key === 'templating' ? 'variables' : here);
  };
  walk(dashboard, 'dashboard');
  return found;
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string }> }>;
}

export function readRules(file = RULES_FILE): RuleFile {
  return parse(readFileSync(file, 'utf8')) as RuleFile;
}

export function readDashboards(dir = DASHBOARDS_DIR): Array<{ file: string; dashboard: Record<string, unknown> }> {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>,
    }));
}

/**
 * Every metric name a dashboard or a rule reads, with where it is read; the
 * series the rules record themselves (slo:…) are not metrics an app exports
 * and are left out.
 */
export function metricNamesInUse(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const note = (name: string, where: string) => used.set(name, [...(used.get(name) ?? []), where]);
  const rules = readRules();
  const recorded = new Set(rules.groups.flatMap((group) => group.rules.flatMap((rule) => rule.record ?? [])));
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      for (const name of metricNames(rule.expr)) note(name, `alerts.yml ${rule.record ?? rule.alert}`);
    }
  }
  for (const { file, dashboard } of readDashboards()) {
    for (const { expr, where } of dashboardExpressions(dashboard)) {
      for (const name of metricNames(expr)) note(name, `${file} ${where}`);
    }
    const variables = (dashboard['templating'] as { list?: Array<{ name: string; query?: unknown }> } | undefined)
      ?.list;
    for (const variable of variables ?? []) {
      const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: string })?.query;
      for (const name of variableMetricNames(query ?? '')) note(name, `${file} variable $${variable.name}`);
    }
  }
  for (const name of recorded) used.delete(name);
  return used;
}

/**
 * The names a Prometheus text exposition offers to a query: each `# TYPE`d
 * metric (a labelled one exists before its first sample) with a histogram's
 * _bucket/_sum/_count and a summary's _sum/_count, and every sample's name.
 */
export function exposedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type?.[1]) {
      const [, name, kind] = type;
      names.add(name);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[\s{]/.exec(line);
    if (sample?.[1]) names.add(sample[1]);
  }
  return names;
}
