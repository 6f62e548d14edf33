import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { OBSERVABILITY_DIR, readDashboards } from './metric-names.ts';

/**
 * The provisioned Grafana (infra/observability/grafana): dashboards that load,
 * each once, on data sources that exist. Their metric names are checked
 * against a live scrape in metrics.e2e.spec.ts.
 */
const provisioning = path.join(OBSERVABILITY_DIR, 'grafana', 'provisioning');
const datasources = (
  parse(readFileSync(path.join(provisioning, 'datasources', 'datasources.yml'), 'utf8')) as {
    datasources: Array<{ uid: string; type: string }>;
  }
).datasources;

/** Every `datasource: { uid }` a dashboard refers to. */
function datasourceUids(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((item) => datasourceUids(item, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'datasource' && value && typeof value === 'object' && 'uid' in value) found.add(String(value.uid));
      else datasourceUids(value, found);
    }
  }
  return found;
}

describe('Grafana', () => {
  const dashboards = readDashboards();

  it('has the five dashboards the README names, each with its own uid', () => {
    expect(dashboards.map(({ file }) => file)).toEqual([
      'breakers.json',
      'messaging.json',
      'process.json',
      'saga.json',
      'service-red.json',
    ]);
    const uids = dashboards.map(({ dashboard }) => dashboard['uid']);
    expect(new Set(uids).size).toBe(dashboards.length);
  });

  it('provisions every data source a dashboard uses', () => {
    const provisioned = new Set(datasources.map((source) => source.uid));
    const unknown = dashboards.flatMap(({ file, dashboard }) =>
      [...datasourceUids(dashboard)].filter((uid) => !provisioned.has(uid)).map((uid) => `${file}: ${uid}`),
    );
    expect(unknown).toEqual([]);
    expect(datasources.map((source) => source.type).sort()).toEqual(['jaeger', 'prometheus']);
  });

  it('gives every panel a title and no two panels the same place', () => {
    for (const { file, dashboard } of dashboards) {
      const panels = dashboard['panels'] as Array<{ title?: string; gridPos: { x: number; y: number } }>;
      expect({ file, untitled: panels.filter((panel) => !panel.title).length }).toEqual({ file, untitled: 0 });
      const places = panels.map((panel) => `${panel.gridPos.x},${panel.gridPos.y}`);
      expect({ file, places: new Set(places).size }).toEqual({ file, places: panels.length });
    }
  });
});
