import { z } from 'zod';

/** GET /api/v1/me, as user-service answers it. */
export const Profile = z.object({ userId: z.string(), email: z.string(), name: z.string() });
