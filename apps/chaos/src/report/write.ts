import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reportMarkdown } from './markdown';
import type { RunReport } from './report';
import { chartSvg } from './svg';

/** Writes chaos/reports/<experiment>-<time>.{json,md,svg}; returns the three paths. */
export function writeReport(dir: string, report: RunReport): { json: string; markdown: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const base = path.join(dir, `${report.experiment.name}-${stamp}`);
  const files = { json: `${base}.json`, markdown: `${base}.md`, svg: `${base}.svg` };
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(
    files.svg,
    chartSvg(
      report.experiment.title,
      report.samples,
      report.faults.map((fault) => ({ name: fault.name, fromSecond: fault.fromSecond, toSecond: fault.toSecond })),
    ),
  );
  writeFileSync(files.markdown, reportMarkdown(report, path.basename(files.svg)));
  return files;
}
