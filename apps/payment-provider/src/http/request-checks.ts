import type { z } from 'zod';
import { fieldErrors, invalidRequest, problemException } from './problems';

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * The checks every write of the API makes, in this order: the body is JSON
 * (else 415; malformed JSON was already refused with 400 by the parser),
 * it carries an Idempotency-Key (else 400), and it matches its strict schema
 * (else 400 with one error per field).
 */
export function requireJson(contentType: string | undefined): void {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw problemException(415, 'unsupported media type', 'the request body must be application/json');
  }
}

export function requireIdempotencyKey(header: string | undefined): string {
  const key = header?.trim();
  if (!key) {
    throw invalidRequest('the Idempotency-Key header is required', [
      { path: 'headers.idempotency-key', message: 'required' },
    ]);
  }
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw invalidRequest('the Idempotency-Key header is too long', [
      { path: 'headers.idempotency-key', message: `at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters` },
    ]);
  }
  return key;
}

export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalidRequest('the request body is not valid', fieldErrors(parsed.error));
  return parsed.data;
}

export function parseQuery<Schema extends z.ZodType>(schema: Schema, query: unknown): z.infer<Schema> {
  const parsed = schema.safeParse({ ...(query as object) });
  if (!parsed.success) throw invalidRequest('the query string is not valid', fieldErrors(parsed.error, 'query'));
  return parsed.data;
}
