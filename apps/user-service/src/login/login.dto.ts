import { z } from 'zod';

/** `POST /auth/login`. The email is not format-checked: a login only ever finds an account or not. */
export const loginBody = z.strictObject({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(1024),
});

export type LoginBody = z.output<typeof loginBody>;
