/** The one error shape every response uses: `{ "error": { "code", "message", "details"? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/**
 * An error whose status, code and message were written for the client. Anything else that reaches
 * the exception filter is answered with a generic message, so internal text never leaks.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static notFound(what = 'request'): ApiError {
    return new ApiError(404, 'not-found', `No such ${what}.`);
  }

  static forbidden(message = 'You may not do this.'): ApiError {
    return new ApiError(403, 'forbidden', message);
  }

  static conflict(message: string, code = 'conflict'): ApiError {
    return new ApiError(409, code, message);
  }
}
