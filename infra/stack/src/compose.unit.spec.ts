import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse } from 'yaml';
import { APPS } from './apps.ts';
import { OBSERVABILITY_DIR } from './metric-names.ts';
import { root } from './paths.ts';

/**
 * docker-compose.yml, checked without a Docker engine (`docker-compose config -q`
 * checks its syntax in the compose stage; each app's spec checks its environment
 * against its config, compose-env.unit.spec.ts): memory limits, healthchecks,
 * start order, profiles, the toxiproxy links and the Prometheus targets.
 */
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  mem_limit?: string;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string | number | null>;
  profiles?: string[];
  volumes?: string[];
  ports?: string[];
}

const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = Object.entries(compose.services);
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};

/** Its image has no shell and no HTTP client to run a check with (a static binary on scratch). */
const WITHOUT_HEALTHCHECK = new Set(['otel-collector']);
const OBSERVABILITY = ['otel-collector', 'jaeger', 'prometheus', 'grafana'];
const MEMORY_BUDGET_BYTES = 4 * 1024 ** 3;
const appPort = (app: (typeof APPS)[number]) => 3000 + app.portOffset;

/** A compose memory size ("144m", "1g") in bytes. */
function bytes(size: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(size);
  if (!match?.[1]) throw new Error(`not a memory size: ${size}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * unit;
}

describe('docker-compose.yml', () => {
  it('caps every container’s memory, at most 4 GiB in all', () => {
    expect(services.filter(([, definition]) => !definition.mem_limit).map(([name]) => name)).toEqual([]);
    const total = services.reduce((sum, [, definition]) => sum + bytes(definition.mem_limit ?? '0'), 0);
    expect(total).toBeLessThanOrEqual(MEMORY_BUDGET_BYTES);
  });

  it('has a healthcheck on every container whose image can run one', () => {
    const without = services
      .filter(([, definition]) => !definition.healthcheck?.test?.length || definition.healthcheck.disable)
      .map(([name]) => name);
    expect(without).toEqual([...WITHOUT_HEALTHCHECK]);
  });

  it('starts a container once what it depends on is healthy (or started, where there is no healthcheck)', () => {
    const wrong: string[] = [];
    for (const [name, definition] of services) {
      if (Array.isArray(definition.depends_on)) wrong.push(`${name}: depends_on without conditions`);
      for (const [dependency, { condition }] of Object.entries(definition.depends_on ?? {})) {
        const expected = WITHOUT_HEALTHCHECK.has(dependency) ? 'service_started' : 'service_healthy';
        if (condition !== expected) wrong.push(`${name} → ${dependency}: ${condition}, expected ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('puts the observability part in its profile, which nothing outside it depends on', () => {
    const profiled = services.filter(([, definition]) => definition.profiles?.length).map(([name]) => name);
    expect(profiled.sort()).toEqual([...OBSERVABILITY].sort());
    for (const name of OBSERVABILITY) expect(service(name).profiles).toEqual(['observability']);
    const reachingIn = services
      .filter(([name]) => !OBSERVABILITY.includes(name))
      .flatMap(([name, definition]) =>
        Object.keys(definition.depends_on ?? {})
          .filter((dependency) => OBSERVABILITY.includes(dependency))
          .map((dependency) => `${name} → ${dependency}`),
      );
    expect(reachingIn).toEqual([]);
  });

  it('publishes only the gateway on every interface; the rest on 127.0.0.1', () => {
    const open = services
      .filter(([name]) => name !== 'gateway')
      .flatMap(([name, definition]) =>
        (definition.ports ?? []).filter((port) => !port.startsWith('127.0.0.1:')).map((port) => `${name} ${port}`),
      );
    expect(open).toEqual([]);
  });

  it('mounts only files and folders that exist', () => {
    const missing = services.flatMap(([name, definition]) =>
      (definition.volumes ?? [])
        .map((volume) => volume.split(':')[0] ?? '')
        .filter((source) => source.startsWith('./') && !existsSync(path.join(root, source)))
        .map((source) => `${name}: ${source}`),
    );
    expect(missing).toEqual([]);
  });

  it.each(APPS.map((app) => [app.name, app] as const))(
    'runs %s from the one Dockerfile, on its port, checked by the image’s healthcheck',
    (name, app) => {
      const definition = service(name);
      expect(definition.build).toMatchObject({
        context: '.',
        dockerfile: 'infra/docker/Dockerfile',
        args: { APP: name },
      });
      expect(definition.healthcheck?.test).toEqual(['CMD', 'node', 'healthcheck.js']);
      expect(String(definition.environment?.[app.portEnv])).toBe(String(appPort(app)));
    },
  );
});

describe('infra/docker/healthcheck.js', () => {
  const healthcheck = createRequire(path.join(root, 'package.json'))('./infra/docker/healthcheck.js') as {
    readyUrl(env: Record<string, string | undefined>): string;
  };

  it.each(APPS.map((app) => [app.name, app] as const))(
    'probes %s on its port variable, else on its default port',
    (name, app) => {
      expect(healthcheck.readyUrl({ APP: name })).toBe(`http://127.0.0.1:${appPort(app)}/health/ready`);
      expect(healthcheck.readyUrl({ APP: name, [app.portEnv]: '4999' })).toBe('http://127.0.0.1:4999/health/ready');
    },
  );

  it('refuses an APP that is not one of ours', () => {
    expect(() => healthcheck.readyUrl({ APP: 'chaos' })).toThrow('not an app of this stack');
  });
});

describe('toxiproxy', () => {
  const proxies = JSON.parse(readFileSync(path.join(OBSERVABILITY_DIR, 'toxiproxy.json'), 'utf8')) as Array<{
    name: string;
    listen: string;
    upstream: string;
  }>;
  const listenPorts = new Map(proxies.map((proxy) => [proxy.listen.split(':').pop() ?? '', proxy]));
  const appEnv = (name: string) => Object.values(service(name).environment ?? {}).map(String);

  it('listens on distinct ports and forwards to services of the compose file', () => {
    expect(listenPorts.size).toBe(proxies.length);
    const unknown = proxies
      .map((proxy) => proxy.upstream.split(':')[0] ?? '')
      .filter((host) => !compose.services[host]);
    expect(unknown).toEqual([]);
    for (const app of APPS) {
      const proxy = proxies.find((candidate) => candidate.upstream.startsWith(`${app.name}:`));
      if (proxy) expect(proxy.upstream).toBe(`${app.name}:${appPort(app)}`);
    }
  });

  it('stands between every app and every other container it talks to', () => {
    const direct: string[] = [];
    for (const app of APPS) {
      for (const value of appEnv(app.name)) {
        for (const [, host, port] of value.matchAll(/([a-z][a-z0-9-]*):(\d+)/g)) {
          if (host === 'otel-collector') continue;
          if (host !== 'toxiproxy') direct.push(`${app.name} → ${host}:${port}`);
          else if (!listenPorts.has(port ?? '')) direct.push(`${app.name} → toxiproxy:${port}, which has no proxy`);
        }
      }
    }
    expect(direct).toEqual([]);
  });

  it('carries the database, Kafka and payment-provider links the issue names', () => {
    const upstreamOf = (name: string, variable: string) => {
      const port = /toxiproxy:(\d+)/.exec(String(service(name).environment?.[variable]))?.[1] ?? '';
      return listenPorts.get(port)?.upstream;
    };
    for (const app of APPS) {
      if (app.database) expect(upstreamOf(app.name, 'DATABASE_URL')).toMatch(/^[a-z-]+-db:5432$/);
      if (app.kafka) expect(upstreamOf(app.name, 'KAFKA_BROKERS')).toBe('kafka:9094');
    }
    expect(upstreamOf('payment-service', 'PAYMENT_PROVIDER_URL')).toBe('payment-provider:3005');
  });

  it('is what Kafka advertises to the apps, so the broker’s answers send them back through it', () => {
    const kafka = service('kafka').environment ?? {};
    const proxy = proxies.find((candidate) => candidate.name === 'kafka');
    expect(String(kafka['KAFKA_LISTENERS'])).toContain(`PROXIED://:${proxy?.upstream.split(':')[1]}`);
    expect(String(kafka['KAFKA_ADVERTISED_LISTENERS'])).toContain(`PROXIED://toxiproxy:${proxy?.listen.split(':')[1]}`);
  });
});

describe('prometheus.yml', () => {
  const prometheus = parse(readFileSync(path.join(OBSERVABILITY_DIR, 'prometheus', 'prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };

  it('scrapes every app’s /metrics as a job named after the app', () => {
    for (const app of APPS) {
      const job = prometheus.scrape_configs.find((candidate) => candidate.job_name === app.name);
      expect(job?.static_configs.flatMap((config) => config.targets)).toEqual([`${app.name}:${appPort(app)}`]);
    }
  });

  it('scrapes the collector, whose metrics ports its config opens', () => {
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((config) => config.targets));
    const collector = readFileSync(path.join(OBSERVABILITY_DIR, 'otel-collector.yaml'), 'utf8');
    expect(targets).toEqual(expect.arrayContaining(['otel-collector:8888', 'otel-collector:8889']));
    expect(collector).toContain('port: 8888');
    expect(collector).toContain('endpoint: 0.0.0.0:8889');
  });
});
