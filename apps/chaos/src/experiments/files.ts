import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ExperimentError, parseExperiment, type Experiment } from './schema';

/** chaos/experiments/*.json: one experiment per file, named after the file. */
export interface ExperimentFile {
  readonly name: string;
  readonly file: string;
  readonly experiment: Experiment;
}

export function experimentsDir(root: string): string {
  return path.join(root, 'chaos', 'experiments');
}

export function loadExperimentFile(file: string): ExperimentFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ExperimentError(file, [`not valid JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  return { name: path.basename(file, '.json'), file, experiment: parseExperiment(json, file) };
}

export function experimentFileNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((entry) => entry.endsWith('.json'))
    .sort()
    .map((entry) => path.join(dir, entry));
}

/** Every experiment file, validated; a broken one throws an ExperimentError naming it. */
export function loadExperiments(dir: string): ExperimentFile[] {
  return experimentFileNames(dir).map(loadExperimentFile);
}

/** An experiment by file name (with or without .json) or by path. */
export function findExperiment(dir: string, nameOrPath: string): ExperimentFile {
  const candidates = [nameOrPath, path.join(dir, nameOrPath), path.join(dir, `${nameOrPath}.json`)];
  const file = candidates.find((candidate) => candidate.endsWith('.json') && existsSync(candidate));
  if (!file) {
    const known = experimentFileNames(dir).map((entry) => path.basename(entry, '.json'));
    throw new Error(`no experiment "${nameOrPath}"; known: ${known.join(', ')}`);
  }
  return loadExperimentFile(file);
}
