import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Role } from '../../../contracts/identity';
import { Authenticator } from './authenticator';
import { type AuthenticatedRequest, IS_PUBLIC, REQUIRED_ROLES } from './decorators';

/** Global guard: every route needs a verified bearer token unless it is marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest>();
    // Verified already if the rate limiter keyed this request by its caller (http/rate-limit.ts).
    const caller = await this.authenticator.authenticateRequest(request);
    request.caller = caller;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, targets);
    if (roles) this.authenticator.requireRole(caller, roles);
    return true;
  }
}
