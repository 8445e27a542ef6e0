import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import pino from 'pino';
import { ApiError } from '../errors/api-error';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import type { Caller } from './caller';
import { Public, RequireRole } from './decorators';
import { TokenRejected } from './claim-mapping';
import type { TokenVerifier } from './token-verifier';

class Routes {
  @Public() open(): void {}
  closed(): void {}
  @RequireRole('admin') adminOnly(): void {}
}

const alice: Caller = { identity: { id: 'alice', email: 'alice@example.com', groups: [] }, roles: [] };
const dave: Caller = { identity: { id: 'dave', email: 'dave@example.com', groups: [] }, roles: ['admin'] };
/** The verifier's contract, by token text: a real one is covered by token-verifier.spec.ts. */
const verifier = {
  verify: (token: string): Promise<Caller> => {
    if (token === 'h.alice.s') return Promise.resolve(alice);
    if (token === 'h.dave.s') return Promise.resolve(dave);
    return Promise.reject(new TokenRejected('ERR_JWS_SIGNATURE_VERIFICATION_FAILED'));
  },
} as unknown as TokenVerifier;

function contextFor(
  handler: keyof Routes,
  authorization?: string,
): { context: ExecutionContext; request: { caller?: Caller } } {
  const request = { raw: {}, headers: authorization === undefined ? {} : { authorization } } as {
    raw: object;
    headers: object;
    caller?: Caller;
  };
  const context = {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { context, request };
}

async function statusOf(promise: Promise<boolean>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (err) {
    return err instanceof ApiError ? err.status : 500;
  }
}

describe(AuthGuard.name, () => {
  const sut = new AuthGuard(new Reflector(), new Authenticator(verifier, pino({ level: 'silent' })));

  it('lets anyone reach a route marked public', async () => {
    await expect(sut.canActivate(contextFor('open').context)).resolves.toBe(true);
  });

  it('denies a route without a token', async () => {
    expect(await statusOf(sut.canActivate(contextFor('closed').context))).toBe(401);
  });

  it.each([
    'Basic YWxpY2U6cGFzcw==',
    'Bearer',
    'Bearer not-a-jwt',
    'bearer h.alice.s',
    `Bearer ${'a'.repeat(9000)}.b.c`,
  ])('denies a malformed Authorization header (%s)', async (header) => {
    expect(await statusOf(sut.canActivate(contextFor('closed', header).context))).toBe(401);
  });

  it('denies a token the verifier rejects', async () => {
    expect(await statusOf(sut.canActivate(contextFor('closed', 'Bearer h.forged.s').context))).toBe(401);
  });

  it('puts the verified caller on the request', async () => {
    const { context, request } = contextFor('closed', 'Bearer h.alice.s');
    await expect(sut.canActivate(context)).resolves.toBe(true);
    expect(request.caller).toBe(alice);
  });

  it('refuses a route needing a role the caller lacks with 403, and allows it with the role', async () => {
    expect(await statusOf(sut.canActivate(contextFor('adminOnly', 'Bearer h.alice.s').context))).toBe(403);
    expect(await statusOf(sut.canActivate(contextFor('adminOnly', 'Bearer h.dave.s').context))).toBe(200);
  });
});
