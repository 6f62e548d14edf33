import { z } from 'zod';

/** `POST /auth/register`: unknown fields are refused, not ignored. */
export const registerBody = z.strictObject({
  email: z.email().max(254),
  password: z.string().min(8).max(1024),
  name: z.string().trim().min(1).max(200),
});

export type RegisterBody = z.output<typeof registerBody>;
