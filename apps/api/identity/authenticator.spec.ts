import pino from 'pino';
import { ApiError } from '../errors/api-error';
import { Authenticator, bearerToken } from './authenticator';
import type { Caller } from './caller';
import { TokenRejected } from './claim-mapping';
import type { TokenVerifier } from './token-verifier';

const auditor: Caller = { identity: { id: 'ada', email: 'ada@example.com', groups: [] }, roles: ['auditor'] };
const verifier = {
  verify: (token: string): Promise<Caller> =>
    token === 'h.ada.s' ? Promise.resolve(auditor) : Promise.reject(new TokenRejected('ERR_JWT_EXPIRED')),
} as unknown as TokenVerifier;

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (err) {
    return err instanceof ApiError ? err.status : 500;
  }
}

describe(Authenticator.name, () => {
  const sut = new Authenticator(verifier, pino({ level: 'silent' }));

  it('reads only the token of a Bearer header', () => {
    expect(bearerToken('Bearer h.ada.s')).toBe('h.ada.s');
    for (const header of [undefined, 'Basic YWRh', 'bearer h.ada.s', 'Bearer', ['Bearer h.ada.s']]) {
      expect(bearerToken(header)).toBeUndefined();
    }
  });

  it.each([undefined, '', 'not-a-jwt', `${'a'.repeat(9000)}.b.c`, 'h.forged.s'])(
    'answers 401 for a missing, malformed, oversized or rejected token (%s)',
    async (token) => {
      expect(await statusOf(sut.authenticate(token))).toBe(401);
    },
  );

  it('gives the verified caller', async () => {
    await expect(sut.authenticate('h.ada.s')).resolves.toBe(auditor);
  });

  it('verifies the token of one request once, however often asked, and each request for itself', async () => {
    let verifications = 0;
    const counting = new Authenticator(
      { verify: (token: string) => (verifications++, verifier.verify(token)) } as unknown as TokenVerifier,
      pino({ level: 'silent' }),
    );
    const request = { raw: {}, headers: { authorization: 'Bearer h.ada.s' } };
    await expect(counting.authenticateRequest(request)).resolves.toBe(auditor);
    await expect(counting.authenticateRequest(request)).resolves.toBe(auditor);
    expect(verifications).toBe(1);
    const forged = { raw: {}, headers: { authorization: 'Bearer h.forged.s' } };
    expect(await statusOf(counting.authenticateRequest(forged))).toBe(401);
    expect(await statusOf(counting.authenticateRequest(forged))).toBe(401);
    expect(verifications).toBe(2);
  });

  it('refuses a caller without any of the roles with 403, naming them', () => {
    expect(() => sut.requireRole(auditor, ['auditor', 'admin'])).not.toThrow();
    expect(() => sut.requireRole(auditor, ['admin'])).toThrow('This needs the admin role.');
  });
});
