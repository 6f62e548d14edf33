import { HttpException } from '@nestjs/common';
import { problem } from '@shop/health';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/**
 * An error that @shop/health's filter sends as this problem+json document
 * (it adds `instance`). Headers such as Retry-After are set on the reply
 * before throwing.
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
export function fieldErrors(error: z.ZodError): FieldError[] {
  const pathOf = (path: readonly PropertyKey[]) => path.map(String).join('.');
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

/** The body as the schema's output, or a 400 problem listing every invalid or unknown field. */
export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw problemException(400, 'validation failed', 'the request body is not valid', {
    errors: fieldErrors(result.error),
  });
}

/**
 * The JSON body of a request as the schema's output. A body of another media
 * type is a 415 (NestJS's Fastify adapter would otherwise parse form and text
 * bodies); no body at all is a validation failure.
 */
export function jsonBody<Schema extends z.ZodType>(
  schema: Schema,
  request: Pick<FastifyRequest, 'headers' | 'body'>,
): z.output<Schema> {
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    throw problemException(415, 'unsupported media type', 'the body must be application/json');
  }
  return parseBody(schema, request.body);
}
