import { APPS, urlEnv } from './apps.ts';
import { exposedMetricNames, metricNamesInUse } from './metric-names.ts';

/**
 * Every metric a Grafana dashboard or a Prometheus rule of infra/observability
 * reads is exposed by the running test stack's apps (started by `npm test`), so
 * a renamed or removed metric fails here instead of leaving a panel empty.
 */
function appUrl(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e tests through \`npm test\``);
  return value;
}

describe('the dashboards and alert rules', () => {
  it('read only metrics that the apps expose on /metrics', async () => {
    const exposed = new Set<string>();
    for (const app of APPS) {
      const response = await fetch(`${appUrl(urlEnv(app))}/metrics`);
      expect({ app: app.name, status: response.status }).toEqual({ app: app.name, status: 200 });
      for (const name of exposedMetricNames(await response.text())) exposed.add(name);
    }
    const missing = [...metricNamesInUse()]
      .filter(([name]) => !exposed.has(name))
      .map(([name, where]) => `${name} (${where.join('; ')})`);
    expect(missing).toEqual([]);
  });
});
