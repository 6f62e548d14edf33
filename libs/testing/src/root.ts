import { existsSync } from 'node:fs';
import path from 'node:path';

/** The workspace root: the nearest folder above the working directory that holds nx.json. */
export function findRoot(start: string = process.cwd()): string {
  let dir = path.resolve(start);
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${start}`);
    dir = parent;
  }
  return dir;
}
