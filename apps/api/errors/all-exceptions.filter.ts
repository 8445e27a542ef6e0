import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { toErrorResponse } from './error-mapping';

/** The only place errors become HTTP responses: one shape, no internal text, server faults logged. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, serverFault } = toErrorResponse(exception);
    if (serverFault) {
      // Name and stack only: messages of lower layers are not ours to vouch for.
      const err = exception instanceof Error ? exception : new Error('non-error thrown');
      this.logger.error(
        { err: { type: err.name, stack: err.stack?.split('\n').slice(1, 8).join('\n') }, status },
        'request failed',
      );
    }
    if (status === 401) void reply.header('WWW-Authenticate', 'Bearer');
    // Temporal or the worker is briefly away (restart, deploy): tell clients when to come back.
    if (status === 503) void reply.header('Retry-After', '5');
    void reply.status(status).header('Cache-Control', 'no-store').send(body);
  }
}
