import { BadRequestException, UnauthorizedException } from '@nestjs/common';
import type { z } from 'zod';
import { problem } from '@shop/health';

/** Parses a request part with a strict schema; a failure is a 400 problem with one entry per issue. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new BadRequestException({
    ...problem(400, 'invalid request', `the ${what} is not valid`),
    errors: parsed.error.issues.map((issue) => ({ path: issue.path.join('.') || what, message: issue.message })),
  });
}

/**
 * The user the gateway speaks for (ADR 0006: the gateway verifies the JWT and
 * sets x-user-id; order-service listens only on the loopback or the internal
 * network, where only the gateway can reach it).
 */
export function userOf(header: string | undefined): string {
  if (!header) throw new UnauthorizedException(problem(401, 'unauthorized', 'no authenticated user'));
  return header;
}
