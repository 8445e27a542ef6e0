import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from '../../../contracts/identity';
import type { Caller } from './caller';

export const IS_PUBLIC = 'latchkey:public';
export const REQUIRED_ROLES = 'latchkey:roles';

/** Opens a route to callers without a token. Only health and readiness use it. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The route needs one of these roles on top of a valid token. */
export const RequireRole = (...roles: Role[]) => SetMetadata(REQUIRED_ROLES, roles);

export interface AuthenticatedRequest {
  caller?: Caller;
}

/** The verified caller, put on the request by the auth guard. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  // The guard runs first on every non-public route; reaching here without a caller is a wiring bug.
  if (!caller) throw new Error('CurrentCaller used on a route without authentication');
  return caller;
});
