import type { SecondSample } from '../load/types';
import { axisSeconds, CHART, chartSvg, xFor } from './svg';

function sample(second: number, requests: number, errors: number, p99Ms: number): SecondSample {
  return {
    second,
    at: 1_000_000 + second * 1000,
    requests,
    errors,
    dropped: 0,
    byStatus: {},
    p50Ms: 1,
    p99Ms,
    ordersAccepted: 0,
  };
}

/**
 * A strict-enough XML well-formedness check for what chartSvg writes: every
 * tag closes in order, attributes are quoted, text holds no raw `<` and
 * every `&` starts an entity.
 */
function wellFormedXml(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  let match: RegExpExecArray | null;
  let roots = 0;
  while ((match = token.exec(xml)) !== null) {
    const [, closing, name, , selfClosing, text, stray] = match;
    if (stray) throw new Error(`malformed tag at ${match.index}: ${xml.slice(match.index, match.index + 40)}`);
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`bare & in text: ${text}`);
      if (stack.length === 0 && text.trim()) throw new Error(`text outside the root: ${text}`);
      continue;
    }
    if (!name) continue;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

const samples = Array.from({ length: 60 }, (_, second) =>
  sample(second, 20, second >= 10 && second < 30 ? 5 : 0, second >= 10 && second < 30 ? 3000 : 40),
);

describe('chartSvg', () => {
  it('is well-formed XML with one svg root, escaping the title', () => {
    const svg = chartSvg('A & B <"quoted">', samples, [{ name: "provider's latency", fromSecond: 10, toSecond: 30 }]);
    expect(() => wellFormedXml(svg)).not.toThrow();
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('<title>A &amp; B &lt;&quot;quoted&quot;&gt;</title>');
  });

  it('the checker itself rejects broken XML', () => {
    expect(() => wellFormedXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => wellFormedXml('<svg>a & b</svg>')).toThrow(/bare &/);
    expect(() => wellFormedXml('<svg><rect x=1/></svg>')).toThrow(/malformed/);
  });

  it('shades each fault window in each of the three panels, at the window seconds', () => {
    const svg = chartSvg('t', samples, [{ name: 'outage', fromSecond: 10, toSecond: 30 }]);
    const rects = [...svg.matchAll(/<rect class="fault-window" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"/g)];
    expect(rects).toHaveLength(3);
    const plotWidth = CHART.width - CHART.left - CHART.right;
    // 10 s into a 60 s axis starts a sixth of the way along the plot, and 20 s long is a third of it.
    for (const [, x, , width] of rects) {
      expect(Number(x)).toBeCloseTo(CHART.left + plotWidth / 6, 0);
      expect(Number(width)).toBeCloseTo(plotWidth / 3, 0);
    }
    expect(new Set(rects.map(([, , y]) => y)).size).toBe(3);
  });

  it('draws one line per series over every second, and nothing to shade without faults', () => {
    const svg = chartSvg('t', samples, []);
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)];
    expect(lines).toHaveLength(3);
    for (const [, points] of lines) expect(points?.split(' ')).toHaveLength(60);
    expect(svg).not.toContain('fault-window');
    // The error-rate line peaks (5 of 20 = 25%) inside the faulty seconds: its highest point is at second 10.5..29.5.
    const errorPoints = (lines[1]?.[1] ?? '')
      .split(' ')
      .map((point) => point.split(',').map(Number) as [number, number]);
    const peak = errorPoints.reduce((best, point) => (point[1] < best[1] ? point : best));
    expect(peak[0]).toBeGreaterThanOrEqual(xFor(10, 60));
    expect(peak[0]).toBeLessThanOrEqual(xFor(30, 60));
  });

  it('maps seconds onto the plot and clamps outside it', () => {
    expect(axisSeconds(samples)).toBe(60);
    expect(xFor(0, 60)).toBe(CHART.left);
    expect(xFor(60, 60)).toBe(CHART.width - CHART.right);
    expect(xFor(90, 60)).toBe(CHART.width - CHART.right);
    expect(xFor(-5, 60)).toBe(CHART.left);
  });
});
