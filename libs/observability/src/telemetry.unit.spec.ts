import { enabledInstrumentations, samplerFromEnv, serviceIdentity } from './telemetry';

describe('serviceIdentity', () => {
  const entry = { name: '@shop/order-service', version: '0.1.0' };

  it('takes OTEL_SERVICE_NAME first, then SERVICE_NAME', () => {
    expect(serviceIdentity({ OTEL_SERVICE_NAME: 'a', SERVICE_NAME: 'b' }, {}, entry).name).toBe('a');
    expect(serviceIdentity({ SERVICE_NAME: 'b' }, {}, entry).name).toBe('b');
  });

  it("falls back to the started app's package name without its scope, and its version", () => {
    expect(serviceIdentity({}, {}, entry)).toEqual({ name: 'order-service', version: '0.1.0' });
  });

  it('takes SERVICE_VERSION over the package version, and options over both', () => {
    expect(serviceIdentity({ SERVICE_VERSION: '2.0.0' }, {}, entry).version).toBe('2.0.0');
    expect(
      serviceIdentity(
        { OTEL_SERVICE_NAME: 'a', SERVICE_VERSION: '2.0.0' },
        { serviceName: 'x', serviceVersion: '3' },
        entry,
      ),
    ).toEqual({ name: 'x', version: '3' });
  });

  it('has a name even with nothing to go on', () => {
    expect(serviceIdentity({}, {}, undefined)).toEqual({ name: 'unknown_service:node', version: undefined });
  });
});

describe('enabledInstrumentations', () => {
  const names = (enabled: string | undefined, exporting = true) => {
    const instrumentations = enabledInstrumentations(enabled, exporting);
    for (const instrumentation of instrumentations) instrumentation.disable();
    return instrumentations.map((instrumentation) => instrumentation.instrumentationName);
  };

  it('loads http, undici, NestJS and pg, and nothing else', () => {
    expect(names(undefined)).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-undici',
      '@opentelemetry/instrumentation-nestjs-core',
      '@opentelemetry/instrumentation-pg',
    ]);
  });

  it('loads only the context-carrying http and undici when no span is exported', () => {
    expect(names(undefined, false)).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-undici',
    ]);
    expect(names('pg', false)).toEqual(['@opentelemetry/instrumentation-pg']);
  });

  it('narrows to the names OTEL_NODE_ENABLED_INSTRUMENTATIONS lists, ignoring ones it does not load', () => {
    expect(names('pg, http,express')).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-pg',
    ]);
  });
});

describe('samplerFromEnv', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  const sampler = (name: string | undefined, arg?: string): string | undefined => {
    if (name === undefined) delete process.env['OTEL_TRACES_SAMPLER'];
    else process.env['OTEL_TRACES_SAMPLER'] = name;
    if (arg === undefined) delete process.env['OTEL_TRACES_SAMPLER_ARG'];
    else process.env['OTEL_TRACES_SAMPLER_ARG'] = arg;
    const chosen = samplerFromEnv();
    return chosen === undefined ? undefined : String(chosen);
  };

  it('leaves the choice to the caller when OTEL_TRACES_SAMPLER is not set, or names no sampler', () => {
    expect(sampler(undefined)).toBeUndefined();
    expect(sampler('jaeger_remote')).toBeUndefined();
  });

  it('builds the sampler the variable names, with its ratio', () => {
    expect(sampler('always_on')).toBe('AlwaysOnSampler');
    expect(sampler('always_off')).toBe('AlwaysOffSampler');
    expect(sampler('traceidratio', '0.25')).toBe('TraceIdRatioBased{0.25}');
    expect(sampler('parentbased_traceidratio', '0.1')).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0.1\}/);
    expect(sampler('parentbased_always_off')).toMatch(/^ParentBased\{root=AlwaysOffSampler/);
  });

  it('samples everything when the ratio is missing or out of range', () => {
    expect(sampler('traceidratio')).toBe('TraceIdRatioBased{1}');
    expect(sampler('traceidratio', '1.5')).toBe('TraceIdRatioBased{1}');
  });
});
