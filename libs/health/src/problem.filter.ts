import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from './problem';

export const SERVICE_LOGGER = Symbol('SERVICE_LOGGER');

/**
 * Every error leaves the service as application/problem+json. Unexpected
 * errors are logged with their stack and answered with a bare 500: no stack,
 * SQL or host name reaches a client.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(SERVICE_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = this.toProblem(exception, request.url);
    // An unready /health/ready is an answer, not a failure (HealthController logs when readiness changes).
    if (body.status >= 500 && !request.url.startsWith('/health/')) {
      this.logger.error({ err: exception, url: request.url }, 'request failed');
    }
    void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
  }

  private toProblem(exception: unknown, instance: string): ProblemBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'object' && response !== null && 'title' in response && 'status' in response) {
        return { ...(response as Problem), instance };
      }
      if (isHealthReport(response)) {
        // An unready /health/ready: a problem that keeps the report (extension members), so the
        // operator still sees which dependency is down.
        const down = Object.keys(response.error ?? {});
        return {
          ...problem(status, 'not ready', `down: ${down.join(', ') || 'unknown'}`, instance),
          info: response.info,
          error: response.error,
          details: response.details,
        };
      }
      const detail = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      return problem(
        status,
        HttpStatus[status]?.replaceAll('_', ' ').toLowerCase() ?? 'error',
        stringify(detail),
        instance,
      );
    }
    return problem(500, 'internal server error', undefined, instance);
  }
}

/** A problem, with the health report's members when it is an unready /health/ready. */
type ProblemBody = Problem & { readonly info?: unknown; readonly error?: unknown; readonly details?: unknown };

interface HealthReport {
  readonly status: 'error';
  readonly info?: Record<string, unknown>;
  readonly error?: Record<string, unknown>;
  readonly details: Record<string, unknown>;
}

/** The body @nestjs/terminus throws with when a check is down. */
function isHealthReport(response: unknown): response is HealthReport {
  return (
    typeof response === 'object' &&
    response !== null &&
    (response as { status?: unknown }).status === 'error' &&
    typeof (response as { details?: unknown }).details === 'object'
  );
}

function stringify(detail: unknown): string | undefined {
  if (detail === undefined) return undefined;
  return Array.isArray(detail) ? detail.join('; ') : String(detail);
}
