import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Role } from '../../../contracts/identity';
import { ApiError } from '../errors/api-error';
import { API_LOGGER } from '../tokens';
import { type AuthenticatedRequest, IS_PUBLIC, REQUIRED_ROLES } from './decorators';
import { TokenRejected, TokenVerifier } from './token-verifier';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const MAX_TOKEN_LENGTH = 8192;

/** Global guard: every route needs a verified bearer token unless it is marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    @Inject(API_LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' && header.length <= MAX_TOKEN_LENGTH ? BEARER.exec(header) : null;
    if (!match) throw new ApiError(401, 'unauthenticated', 'A valid bearer token is required.');
    try {
      request.caller = await this.verifier.verify(match[1]);
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      this.logger.info({ reason: err.reason }, 'bearer token rejected');
      throw new ApiError(401, 'unauthenticated', 'A valid bearer token is required.');
    }

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, targets);
    if (roles && !roles.some((role) => request.caller?.roles.includes(role))) {
      throw ApiError.forbidden(`This needs the ${roles.join(' or ')} role.`);
    }
    return true;
  }
}
