import { register } from 'prom-client';

/** The value of a resilience metric for one policy on the default registry (0 when never set). */
export async function metricValue(name: string, policy: string): Promise<number> {
  const metric = register.getSingleMetric(name);
  const values = metric ? (await metric.get()).values : [];
  return values.find((value) => value.labels['policy'] === policy)?.value ?? 0;
}
