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
    if (body.status >= 500) this.logger.error({ err: exception, url: request.url }, 'request failed');
    void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
  }

  private toProblem(exception: unknown, instance: string): Problem {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'object' && response !== null && 'title' in response && 'status' in response) {
        return { ...(response as Problem), instance };
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

function stringify(detail: unknown): string | undefined {
  if (detail === undefined) return undefined;
  return Array.isArray(detail) ? detail.join('; ') : String(detail);
}
