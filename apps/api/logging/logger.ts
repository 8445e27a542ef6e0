import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { LatchkeyConfig } from '../../../config/config';
import { requestContext } from './request-context';

/**
 * Structured JSON logs. The HTTP request id is mixed into every line written inside a request, and
 * the redaction list is a second line of defence: nothing here logs bodies or headers on purpose.
 */
export function createLogger(level: LatchkeyConfig['logLevel'], destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'latchkey-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const context = requestContext.getStore();
        return context ? { requestId: context.requestId } : {};
      },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'email',
          '*.email',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** Nest's own messages (startup, route mapping) go through the same pino logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
