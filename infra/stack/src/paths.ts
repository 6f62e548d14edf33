import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** The workspace root: the nearest folder above the working directory that holds nx.json. */
export function findRoot(start: string = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${start}: run this from inside the workspace`);
    dir = parent;
  }
}

export const root = findRoot();

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
