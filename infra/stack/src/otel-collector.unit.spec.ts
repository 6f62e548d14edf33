import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { OBSERVABILITY_DIR } from './metric-names.ts';

/**
 * No collector binary runs in CI, so this is the check of the OpenTelemetry
 * Collector's config and of Jaeger v2's (a collector build, same shape): valid
 * YAML, and every pipeline names only receivers, processors and exporters the
 * file defines. A connector is an exporter of one pipeline and a receiver of
 * another, so it must be used on both sides.
 */
type Section = Record<string, unknown> | null | undefined;
interface CollectorConfig {
  receivers?: Section;
  processors?: Section;
  exporters?: Section;
  connectors?: Section;
  extensions?: Section;
  service?: {
    extensions?: string[];
    pipelines?: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] }>;
  };
}

function read(file: string): CollectorConfig {
  return parse(readFileSync(path.join(OBSERVABILITY_DIR, file), 'utf8')) as CollectorConfig;
}

const defined = (section: Section) => new Set(Object.keys(section ?? {}));

/** What is wrong with `config`'s pipelines, one line per problem. */
function pipelineProblems(config: CollectorConfig): string[] {
  const problems: string[] = [];
  const connectors = defined(config.connectors);
  const pipelines = Object.entries(config.service?.pipelines ?? {});
  if (pipelines.length === 0) problems.push('service.pipelines is empty');
  const kinds = [
    ['receivers', new Set([...defined(config.receivers), ...connectors])],
    ['processors', defined(config.processors)],
    ['exporters', new Set([...defined(config.exporters), ...connectors])],
  ] as const;
  for (const [name, pipeline] of pipelines) {
    if (!/^(traces|metrics|logs)(\/.+)?$/.test(name)) problems.push(`pipeline ${name}: not traces, metrics or logs`);
    if (!pipeline.receivers?.length) problems.push(`pipeline ${name}: no receivers`);
    if (!pipeline.exporters?.length) problems.push(`pipeline ${name}: no exporters`);
    for (const [kind, known] of kinds) {
      for (const component of pipeline[kind] ?? []) {
        if (!known.has(component)) problems.push(`pipeline ${name}: ${kind} "${component}" is not defined`);
      }
    }
  }
  for (const extension of config.service?.extensions ?? []) {
    if (!defined(config.extensions).has(extension)) problems.push(`service.extensions: "${extension}" is not defined`);
  }
  for (const connector of connectors) {
    const as = (kind: 'receivers' | 'exporters') =>
      pipelines.some(([, pipeline]) => pipeline[kind]?.includes(connector));
    if (!as('exporters') || !as('receivers'))
      problems.push(`connector ${connector}: not both exported to and received from`);
  }
  return problems;
}

describe.each(['otel-collector.yaml', 'jaeger.yaml'])('%s', (file) => {
  it('names only components it defines in every pipeline', () => {
    expect(pipelineProblems(read(file))).toEqual([]);
  });
});

describe('the collector', () => {
  const config = read('otel-collector.yaml');

  it('takes OTLP over HTTP on 4318, where the apps send it (docker-compose.yml)', () => {
    expect(config.receivers?.['otlp']).toMatchObject({ protocols: { http: { endpoint: '0.0.0.0:4318' } } });
  });

  it('sends traces to Jaeger and span metrics to Prometheus', () => {
    expect(config.exporters?.['otlp/jaeger']).toMatchObject({ endpoint: 'jaeger:4317' });
    expect(config.service?.pipelines?.['traces']?.exporters).toContain('otlp/jaeger');
    expect(config.service?.pipelines?.['metrics/spanmetrics']?.exporters).toEqual(['prometheus']);
  });

  it('limits its memory first, before anything else processes the data', () => {
    for (const pipeline of Object.values(config.service?.pipelines ?? {})) {
      expect(pipeline.processors?.[0]).toBe('memory_limiter');
    }
  });
});

describe('pipelineProblems', () => {
  it('reports undefined components, empty pipelines and one-sided connectors', () => {
    expect(
      pipelineProblems({
        receivers: { otlp: {} },
        exporters: { debug: {} },
        connectors: { spanmetrics: {} },
        service: {
          extensions: ['health_check'],
          pipelines: {
            traces: { receivers: ['otlp', 'zipkin'], processors: ['batch'], exporters: ['debug', 'spanmetrics'] },
            'metrics/empty': { receivers: [], exporters: ['prometheus'] },
          },
        },
      }),
    ).toEqual([
      'pipeline traces: receivers "zipkin" is not defined',
      'pipeline traces: processors "batch" is not defined',
      'pipeline metrics/empty: no receivers',
      'pipeline metrics/empty: exporters "prometheus" is not defined',
      'service.extensions: "health_check" is not defined',
      'connector spanmetrics: not both exported to and received from',
    ]);
  });
});
