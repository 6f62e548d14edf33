import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { APPS } from './apps.ts';
import { root } from './paths.ts';
import { APP_NODE_FLAGS } from './run-stack.ts';

/**
 * infra/docker/Dockerfile, checked without building it: the image compiles
 * the apps with the command CI compiles them with, installs from every
 * workspace's manifest, and runs as a non-root user with production
 * dependencies only.
 */
const dockerfile = readFileSync(path.join(root, 'infra', 'docker', 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  workspaces: string[];
};

/** The instructions of one stage, from its FROM to the next. */
function stage(name: string): string[] {
  const start = dockerfile.findIndex((line) => new RegExp(`^FROM \\S+ AS ${name}$`, 'i').test(line));
  if (start < 0) throw new Error(`no stage ${name}`);
  const end = dockerfile.findIndex((line, index) => index > start && line.startsWith('FROM '));
  return dockerfile.slice(start, end < 0 ? undefined : end);
}

/** The workspace folders package.json's globs (`apps/*`) name. */
function workspaces(): string[] {
  return packageJson.workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(path.join(root, parent))
      .filter((entry) => existsSync(path.join(root, parent, entry, 'package.json')))
      .map((entry) => `${parent}/${entry}`);
  });
}

describe('infra/docker/Dockerfile', () => {
  it('builds with `npm run build`, the `tsc -b tsconfig.json` that npm test’s build stage runs', () => {
    expect(stage('build').filter((line) => line.startsWith('RUN npm run'))).toEqual(['RUN npm run build']);
    expect(packageJson.scripts['build']).toBe('tsc -b tsconfig.json');
    // run-stack.ts build(): `tsc -b <project>`, tsconfig.json unless one project is named.
    const runStack = readFileSync(path.join(root, 'infra', 'stack', 'src', 'run-stack.ts'), 'utf8');
    expect(runStack).toContain("export function build(say: Say, project = 'tsconfig.json')");
    expect(runStack).toMatch(/'tsc'\), '-b', project\]/);
  });

  it('copies every project the build references, and its tsconfig files', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as {
      references: Array<{ path: string }>;
    };
    const copied = stage('build').filter((line) => line.startsWith('COPY '));
    expect(copied).toEqual(expect.arrayContaining(['COPY tsconfig.base.json tsconfig.json ./']));
    const uncovered = tsconfig.references
      .map((reference) => path.normalize(reference.path))
      .filter((project) => !copied.includes(`COPY ${project.split('/')[0]} ${project.split('/')[0]}`));
    expect(uncovered).toEqual([]);
  });

  it('copies every workspace’s package.json before `npm ci` (else npm ci fails on the lockfile)', () => {
    const manifests = stage('manifests');
    const missing = workspaces().filter((dir) => !manifests.includes(`COPY ${dir}/package.json ${dir}/`));
    expect(missing).toEqual([]);
    expect(manifests).toContain('COPY package.json package-lock.json ./');
  });

  it('runs Node 24 on a slim base', () => {
    expect(dockerfile[0]).toBe('ARG NODE_IMAGE=node:24-bookworm-slim');
    expect(dockerfile.filter((line) => line.startsWith('FROM ${NODE_IMAGE}')).length).toBeGreaterThanOrEqual(2);
  });

  it('ships production dependencies only, as a non-root user, with a healthcheck', () => {
    expect(stage('dependencies').join('\n')).toMatch(/npm ci --omit=dev /);
    const runtime = stage('runtime');
    expect(runtime).toContain('USER node');
    expect(runtime).toContain('ENV NODE_ENV=production');
    // node_modules from the production install; from the build, only the compiled output.
    expect(runtime.filter((line) => line.startsWith('COPY --from='))).toEqual([
      'COPY --from=dependencies /workspace ./',
      'COPY --from=build /out ./',
    ]);
    expect(runtime.find((line) => line.startsWith('HEALTHCHECK'))).toMatch(/CMD \["node", "healthcheck.js"\]$/);
    expect(runtime).toContain('COPY infra/docker/healthcheck.js ./');
  });

  it('starts the app APP names, after the telemetry preload', () => {
    const command = stage('runtime').find((line) => line.startsWith('CMD '));
    expect(command).toContain('--require ./libs/observability/dist/preload.js apps/${APP}/dist/main.js');
    // The image runs the apps with npm start's Node flags, in its order.
    expect(command).toContain(`exec node ${APP_NODE_FLAGS.join(' ')} --require `);
    expect(existsSync(path.join(root, 'libs', 'observability', 'src', 'preload.ts'))).toBe(true);
    for (const app of APPS) expect(existsSync(path.join(root, 'apps', app.name, 'src', 'main.ts'))).toBe(true);
  });
});
