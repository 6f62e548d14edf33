import { HttpException } from '@nestjs/common';
import { z } from 'zod';
import { jsonBody, parseBody } from './problems';

const schema = z.strictObject({ email: z.email(), password: z.string().min(8), tags: z.array(z.string()).optional() });

function refusal(body: unknown): { status: number; response: unknown } {
  try {
    parseBody(schema, body);
  } catch (error) {
    if (error instanceof HttpException) return { status: error.getStatus(), response: error.getResponse() };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseBody', () => {
  it('returns the parsed body', () => {
    expect(parseBody(schema, { email: 'ada@example.com', password: 'secret123' })).toEqual({
      email: 'ada@example.com',
      password: 'secret123',
    });
  });

  it('refuses with a 400 problem naming every bad and every unknown field, without echoing values', () => {
    const { status, response } = refusal({ email: 'nope', password: 'short', tags: [1], admin: true, role: 'x' });
    expect(status).toBe(400);
    expect(response).toMatchObject({ status: 400, title: 'validation failed', type: expect.any(String) });
    const errors = (response as { errors: { path: string; message: string }[] }).errors;
    expect(errors.map((error) => error.path).sort()).toEqual(['admin', 'email', 'password', 'role', 'tags.0']);
    expect(errors.find((error) => error.path === 'admin')?.message).toBe('unknown field');
    expect(JSON.stringify(errors)).not.toContain('short');
  });

  it('lists a field once, with the first problem found', () => {
    const { response } = refusal({ email: 'ada@example.com', password: ['long', 'enough', 'array'] });
    expect(response).toMatchObject({
      errors: [{ path: 'password', message: 'Invalid input: expected string, received array' }],
    });
  });

  it('refuses a body that is not an object', () => {
    expect(refusal(undefined).status).toBe(400);
    expect(refusal([]).response).toMatchObject({ errors: [{ path: '' }] });
  });
});

describe('jsonBody', () => {
  const body = { email: 'ada@example.com', password: 'secret123' };

  it('parses a JSON body, with or without parameters on the media type', () => {
    expect(jsonBody(schema, { headers: { 'content-type': 'application/json' }, body })).toEqual(body);
    expect(jsonBody(schema, { headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body })).toEqual(body);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/merge-patch+json'])(
    'refuses a %s body with a 415 problem',
    (contentType) => {
      try {
        jsonBody(schema, { headers: { 'content-type': contentType }, body });
        throw new Error('expected a refusal');
      } catch (error) {
        expect(error).toBeInstanceOf(HttpException);
        expect((error as HttpException).getResponse()).toMatchObject({ status: 415, title: 'unsupported media type' });
      }
    },
  );

  it('treats no body at all as a validation failure', () => {
    expect(() => jsonBody(schema, { headers: {}, body: undefined })).toThrow(HttpException);
  });
});
