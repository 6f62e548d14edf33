import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spansOf, startSpanSink } from './span-sink.ts';

const request = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'order-service' } }] },
      scopeSpans: [
        {
          spans: [
            { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentSpanId: '', name: 'POST /orders', kind: 2 },
            {
              traceId: 'a'.repeat(32),
              spanId: 'c'.repeat(16),
              parentSpanId: 'b'.repeat(16),
              name: 'pg.query',
              kind: 3,
            },
          ],
        },
      ],
    },
    { scopeSpans: [{ spans: [{ traceId: 'd'.repeat(32), spanId: 'e'.repeat(16), name: 'x', kind: 1 }] }] },
  ],
};

describe('span sink (OTLP/HTTP JSON)', () => {
  it('flattens a request into spans with their service, a root without a parent', () => {
    expect(spansOf(request)).toEqual([
      {
        service: 'order-service',
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
        parentSpanId: undefined,
        name: 'POST /orders',
        kind: 2,
      },
      {
        service: 'order-service',
        traceId: 'a'.repeat(32),
        spanId: 'c'.repeat(16),
        parentSpanId: 'b'.repeat(16),
        name: 'pg.query',
        kind: 3,
      },
      {
        service: 'unknown',
        traceId: 'd'.repeat(32),
        spanId: 'e'.repeat(16),
        parentSpanId: undefined,
        name: 'x',
        kind: 1,
      },
    ]);
  });

  it('appends what an exporter posts to /v1/traces, one line a span, and refuses anything else', async () => {
    const sink = await startSpanSink(path.join(mkdtempSync(path.join(tmpdir(), 'spans-')), 'spans.jsonl'));
    try {
      const post = (url: string, body: string) =>
        fetch(`${sink.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect((await post('/v1/traces', JSON.stringify(request))).status).toBe(200);
      expect((await post('/v1/traces', '{not json')).status).toBe(400);
      expect((await post('/v1/metrics', '{}')).status).toBe(404);
      const lines = readFileSync(sink.file, 'utf8').trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { spanId: string }).spanId)).toEqual([
        'b'.repeat(16),
        'c'.repeat(16),
        'e'.repeat(16),
      ]);
    } finally {
      await sink.close();
    }
  });
});
