import { z } from 'zod';

/** POST /api/v1/auth/register (user-service checks the same, and whether the email is taken). */
export const RegisterBody = z.strictObject({
  email: z.email().max(254),
  password: z.string().min(8).max(1024),
  name: z.string().trim().min(1).max(200),
});

/** POST /api/v1/auth/login. The email is not format-checked: a login only ever finds an account or not. */
export const LoginBody = z.strictObject({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(1024),
});

export const Registered = z.object({ userId: z.string() });

export const AccessToken = z.object({
  accessToken: z.string().describe('An EdDSA JWT; send it as `Authorization: Bearer <accessToken>`.'),
  tokenType: z.literal('Bearer'),
  expiresIn: z.int().positive().describe('Seconds until the token expires.'),
});
