import type { SecondSample } from '../load/types';

/**
 * The run's chart, hand-written SVG (no charting dependency): three panels
 * over the same time axis (seconds since the load started), throughput
 * (requests/s), error rate (%) and p99 latency (ms), with every fault window
 * shaded in each panel.
 */
export interface ChartWindow {
  readonly name: string;
  readonly fromSecond: number;
  readonly toSecond: number;
}

export const CHART = {
  width: 900,
  left: 70,
  right: 20,
  top: 40,
  panelHeight: 140,
  gap: 40,
} as const;

const PLOT_WIDTH = CHART.width - CHART.left - CHART.right;

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** The time axis runs from 0 to the end of the last sample (at least one second). */
export function axisSeconds(samples: readonly SecondSample[]): number {
  return Math.max(1, ...samples.map((sample) => sample.second + 1));
}

/** x of a moment `second` seconds after the load started. */
export function xFor(second: number, totalSeconds: number): number {
  const clamped = Math.min(Math.max(second, 0), totalSeconds);
  return round(CHART.left + (clamped / totalSeconds) * PLOT_WIDTH);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A round upper bound for an axis: 1, 2 or 5 × 10^n at or above the maximum. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].find((step) => step * power >= max) ?? 10) * power;
}

interface Series {
  readonly title: string;
  readonly unit: string;
  readonly color: string;
  readonly value: (sample: SecondSample) => number;
}

const SERIES: readonly Series[] = [
  { title: 'throughput', unit: 'req/s', color: '#2a6f97', value: (sample) => sample.requests },
  {
    title: 'error rate',
    unit: '%',
    color: '#c1121f',
    value: (sample) => (sample.requests ? (100 * sample.errors) / sample.requests : 0),
  },
  { title: 'p99 latency', unit: 'ms', color: '#6a4c93', value: (sample) => sample.p99Ms },
];

export function chartSvg(title: string, samples: readonly SecondSample[], windows: readonly ChartWindow[]): string {
  const total = axisSeconds(samples);
  const height = CHART.top + SERIES.length * (CHART.panelHeight + CHART.gap) + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${height}" viewBox="0 0 ${CHART.width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${CHART.width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${CHART.left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  SERIES.forEach((series, index) => {
    const top = CHART.top + index * (CHART.panelHeight + CHART.gap);
    const bottom = top + CHART.panelHeight;
    const max = niceMax(Math.max(0, ...samples.map(series.value)));
    const y = (value: number) => round(bottom - (value / max) * CHART.panelHeight);
    parts.push(`<g class="panel" data-series="${series.title}">`);
    for (const window of windows) {
      const x = xFor(window.fromSecond, total);
      const width = Math.max(1, round(xFor(window.toSecond, total) - x));
      parts.push(
        `<rect class="fault-window" x="${x}" y="${top}" width="${width}" height="${CHART.panelHeight}" fill="#f4a261" fill-opacity="0.3"><title>${escapeXml(window.name)}</title></rect>`,
      );
    }
    parts.push(
      `<rect x="${CHART.left}" y="${top}" width="${PLOT_WIDTH}" height="${CHART.panelHeight}" fill="none" stroke="#999999"/>`,
      `<text x="${CHART.left}" y="${top - 6}" font-weight="bold">${series.title} (${series.unit})</text>`,
      `<text x="${CHART.left - 6}" y="${top + 4}" text-anchor="end">${max}</text>`,
      `<text x="${CHART.left - 6}" y="${bottom}" text-anchor="end">0</text>`,
      `<text x="${CHART.left + PLOT_WIDTH}" y="${bottom + 14}" text-anchor="end">${total} s</text>`,
      `<text x="${CHART.left}" y="${bottom + 14}">0 s</text>`,
    );
    if (samples.length) {
      // Each second's value is drawn at the middle of its second.
      const points = samples
        .map((sample) => `${xFor(sample.second + 0.5, total)},${y(series.value(sample))}`)
        .join(' ');
      parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="1.5" points="${points}"/>`);
    }
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
