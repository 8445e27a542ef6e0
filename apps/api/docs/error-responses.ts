import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../requests/dto/request-view.dto';

/**
 * Declares the error answers an operation (or every operation of a controller) can give, each in the
 * API's one error shape. The answers every route can give (401, 400, 413, 415, 429) are declared once,
 * where the document is made (openapi-document.ts); these are the ones particular to the operation.
 */
export function ApiErrors(answers: Record<number, string>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(answers).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, type: ErrorResponseDto }),
    ),
  );
}

/** Temporal (or the worker) is briefly away, or does not trust this API's signing key. */
export const TEMPORAL_AWAY = 'Temporal or the worker cannot be reached right now; Retry-After says when to try again.';
