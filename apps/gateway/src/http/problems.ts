import { HttpException } from '@nestjs/common';
import { problem } from '@shop/health';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/**
 * An error that @shop/health's ProblemFilter sends as this problem+json
 * document (it sets `instance`). Headers such as Retry-After are set on the
 * reply before throwing.
 */
export function problemException(
  status: number,
  title: string,
  detail: string,
  extra: { readonly errors?: readonly FieldError[] } = {},
): HttpException {
  return new HttpException({ ...problem(status, title, detail), ...extra }, status);
}

/**
 * Zod's issues as `errors: [{ path, message }]`: one entry per field (the
 * first problem found with it), each unknown field by name. Values are never
 * echoed.
 */
export function fieldErrors(error: z.ZodError, root = 'body'): FieldError[] {
  const pathOf = (path: readonly PropertyKey[]) => path.map(String).join('.') || root;
  const byPath = new Map<string, string>();
  for (const issue of error.issues) {
    const entries =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => [pathOf([...issue.path, key]), 'unknown field'] as const)
        : [[pathOf(issue.path), issue.message] as const];
    for (const [path, message] of entries) if (!byPath.has(path)) byPath.set(path, message);
  }
  return [...byPath].map(([path, message]) => ({ path, message }));
}

/** `value` as the schema's output, or a 400 problem listing every invalid or unknown field. */
export function parseOr400<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw problemException(400, 'validation failed', `the ${what} is not valid`, {
    errors: fieldErrors(result.error, what),
  });
}

/**
 * The JSON body of a request as the schema's output. Fastify itself answers
 * malformed JSON (400), bodies over 64 KiB (413) and media types it has no
 * parser for (415); text and form bodies it would parse, so they are refused
 * here (415). No body at all is a validation failure.
 */
export function jsonBody<Schema extends z.ZodType>(
  schema: Schema,
  request: Pick<FastifyRequest, 'headers' | 'body'>,
): z.output<Schema> {
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    throw problemException(415, 'unsupported media type', 'the body must be application/json');
  }
  return parseOr400(schema, request.body, 'body');
}
