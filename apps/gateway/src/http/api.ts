import { z } from 'zod';

/** Every public route lives under this prefix (docs/contract.md). */
export const API_PREFIX = 'api/v1';

/** The contract's problem document (RFC 9457), for the OpenAPI document. */
export const ProblemDocument = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .optional()
    .describe('One entry per invalid or unknown field (validation failures only).'),
});
