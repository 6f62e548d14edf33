import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { findRoot } from './root';

/** Values for `${VAR}` in docker-compose.yml, as docker-compose takes them from the shell and `.env`. */
export type ComposeVariables = Readonly<Record<string, string>>;

interface ComposeFile {
  services?: Record<string, { environment?: Record<string, unknown> | string[] }>;
}

/**
 * The environment docker-compose gives `service`: docker-compose.yml's
 * `environment` with its anchors merged and `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}` and `$$` resolved against `variables`
 * (none: an empty shell and no `.env`). A variable without a default that is
 * not set fails here, where docker-compose would warn and use "".
 */
export function composeServiceEnv(service: string, variables: ComposeVariables = {}): Record<string, string> {
  const file = path.join(findRoot(), 'docker-compose.yml');
  const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as ComposeFile;
  const definition = compose.services?.[service];
  if (!definition) throw new Error(`docker-compose.yml has no service "${service}"`);
  const entries = Array.isArray(definition.environment)
    ? definition.environment.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, null] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(definition.environment ?? {});
  const env: Record<string, string> = {};
  for (const [name, value] of entries) {
    // A name without a value is passed through from the shell, which is empty here.
    if (value === null || value === undefined) continue;
    env[String(name)] = interpolate(String(value), variables, `${service}: ${String(name)}`);
  }
  return env;
}

/** The `NAME=value` lines of an env file (default `.env.example`), read the way docker-compose reads `.env`. */
export function envFileVariables(file = '.env.example'): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of readFileSync(path.join(findRoot(), file), 'utf8').split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!match?.[1]) continue;
    const value = (match[2] ?? '').trim();
    variables[match[1]] = /^(['"]).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return variables;
}

/**
 * The names in `env` that an app's config shape does not read, OTEL_* aside
 * (the OpenTelemetry SDK reads those): a misspelt variable is otherwise
 * ignored in silence and its default used.
 */
export function unreadVariables(env: Readonly<Record<string, string>>, configShape: object): string[] {
  return Object.keys(env).filter((name) => !(name in configShape) && !name.startsWith('OTEL_'));
}

const REFERENCE = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export function interpolate(text: string, variables: ComposeVariables, where: string): string {
  return text.replace(
    REFERENCE,
    (_match, escaped?: string, braced?: string, operator?: string, argument?: string, bare?: string) => {
      if (escaped) return '$';
      const name = (braced ?? bare) as string;
      const value = variables[name];
      // With the colon, an empty value counts as unset.
      const missing = value === undefined || (operator?.startsWith(':') === true && value === '');
      if (operator === ':-' || operator === '-') return missing ? (argument ?? '') : (value as string);
      if (missing) {
        throw new Error(`${where}: \${${name}} is not set${operator ? ` (${argument ?? ''})` : ' and has no default'}`);
      }
      return value as string;
    },
  );
}
