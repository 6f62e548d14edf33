import { HttpException } from '@nestjs/common';
import { problem, type Problem } from '@shop/health';
import type { z } from 'zod';

/**
 * Every refusal of the provider's API, as an HttpException whose response is
 * a problem document: the ProblemFilter of @shop/health sends it as
 * application/problem+json (and sets `instance` to the request's path).
 */
export type FieldError = NonNullable<Problem['errors']>[number];

export function problemException(
  status: number,
  title: string,
  detail: string,
  errors?: readonly FieldError[],
): HttpException {
  const body: Problem = { ...problem(status, title, detail), ...(errors ? { errors } : {}) };
  return new HttpException(body, status);
}

export function invalidRequest(detail: string, errors: readonly FieldError[]): HttpException {
  return problemException(400, 'invalid request', detail, errors);
}

/** zod issues as `{ path, message }`, one per unknown key (so each names its field). */
export function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  const at = (path: readonly PropertyKey[]) => [prefix, ...path.map(String)].filter(Boolean).join('.') || '(root)';
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: 'unknown field' }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}
