/** An RFC 9457 problem document, the body of every 4xx/5xx answer. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problem(status: number, title: string, detail?: string, instance?: string): Problem {
  return {
    type: `https://shop.example/problems/${title.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-')}`,
    title,
    status,
    ...(detail === undefined ? {} : { detail }),
    ...(instance === undefined ? {} : { instance }),
  };
}
