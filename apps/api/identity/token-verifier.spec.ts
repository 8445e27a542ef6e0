import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as jose from 'jose';
import { generateKeyPair, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import type { LatchkeyConfig } from '../../../config/config';
import { loadOrCreateLocalSigningKey, mintLocalToken } from './local-signing-key';
import { TokenRejected } from './claim-mapping';
import { TokenVerifier } from './token-verifier';

// The real jwtVerify, counted: a token checked lately is taken again without another signature check.
jest.mock('jose', () => {
  const actual = jest.requireActual<typeof jose>('jose');
  return { ...actual, jwtVerify: jest.fn(actual.jwtVerify) };
});
const signatureChecks = jwtVerify as jest.MockedFunction<typeof jwtVerify>;

describe(TokenVerifier.name, () => {
  let dir: string;
  let auth: Extract<LatchkeyConfig['auth'], { mode: 'local' }>;
  let sut: TokenVerifier;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-auth-'));
    auth = {
      mode: 'local',
      signingKeyFile: path.join(dir, 'keys', 'signing.jwk.json'),
      publicKeyFile: path.join(dir, 'keys', 'signing.public.jwk.json'),
      issuer: 'latchkey-local',
      audience: 'latchkey',
      maxTokenAgeSeconds: 24 * 3600,
    };
    sut = await TokenVerifier.fromConfig(auth);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function mint(
    claims: Partial<{ sub: string; email: string; groups: string[]; roles: string[] }> = {},
    ttl = 60,
  ) {
    const key = await loadOrCreateLocalSigningKey(auth.signingKeyFile, auth.publicKeyFile);
    return mintLocalToken(
      key,
      auth.issuer,
      auth.audience,
      { sub: 'alice', email: 'alice@example.com', groups: ['engineering'], roles: [], ...claims } as never,
      ttl,
    );
  }

  async function rejection(token: string): Promise<string> {
    try {
      await sut.verify(token);
    } catch (err) {
      if (err instanceof TokenRejected) return err.reason;
      throw err;
    }
    throw new Error('token was accepted');
  }

  it('creates the signing key on first use, readable by its owner only, and its public half beside it', () => {
    expect(fs.statSync(auth.signingKeyFile).mode & 0o777).toBe(0o600);
    const publicJwk = JSON.parse(fs.readFileSync(auth.publicKeyFile, 'utf8')) as Record<string, unknown>;
    expect(publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(publicJwk.d).toBeUndefined();
  });

  it('verifies from the public file alone: the API never needs the private key', async () => {
    const token = await mint();
    const apiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-auth-api-'));
    try {
      const publicOnly = { ...auth, signingKeyFile: path.join(apiDir, 'absent.jwk.json') };
      publicOnly.publicKeyFile = path.join(apiDir, 'token-signing.public.jwk.json');
      fs.copyFileSync(auth.publicKeyFile, publicOnly.publicKeyFile);
      const verifier = await TokenVerifier.fromConfig(publicOnly);
      await expect(verifier.verify(token)).resolves.toMatchObject({ identity: { id: 'alice' } });
      expect(fs.existsSync(publicOnly.signingKeyFile)).toBe(false);
    } finally {
      fs.rmSync(apiDir, { recursive: true, force: true });
    }
  });

  it('refuses a public key file that holds the private key', async () => {
    await expect(TokenVerifier.fromConfig({ ...auth, publicKeyFile: auth.signingKeyFile })).rejects.toThrow(
      /must hold an ES256 public key, and only that/,
    );
  });

  it('says how to write the public file when only the private one exists', async () => {
    const missing = path.join(dir, 'keys', 'missing.public.jwk.json');
    await expect(TokenVerifier.fromConfig({ ...auth, publicKeyFile: missing })).rejects.toThrow(/npm run token/);
  });

  it('marks locally minted e-mail addresses as verified', async () => {
    const [, payload] = (await mint()).split('.');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toMatchObject({ email_verified: true });
  });

  it('reads identity and roles from a valid token', async () => {
    await expect(sut.verify(await mint({ roles: ['auditor'] }))).resolves.toEqual({
      identity: { id: 'alice', email: 'alice@example.com', groups: ['engineering'] },
      roles: ['auditor'],
      emailVerified: true,
    });
  });

  /** A token signed with the local key, with exactly the claims given (no defaults added). */
  async function signed(claims: Record<string, unknown>, setup: (jwt: SignJWT) => SignJWT = (jwt) => jwt) {
    const key = await loadOrCreateLocalSigningKey(auth.signingKeyFile);
    const jwt = new SignJWT({ email: 'alice@example.com', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .setSubject('alice')
      .setIssuer(auth.issuer)
      .setAudience(auth.audience);
    return setup(jwt).sign(key.privateKey);
  }

  it('refuses a token that does not say it is an access token (typ at+jwt), such as an ID token', async () => {
    const key = await loadOrCreateLocalSigningKey(auth.signingKeyFile);
    const asIdToken = (typ?: string) =>
      new SignJWT({ email: 'alice@example.com', groups: ['engineering'] })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, ...(typ ? { typ } : {}) })
        .setSubject('alice')
        .setIssuer(auth.issuer)
        .setAudience(auth.audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key.privateKey);
    expect(await rejection(await asIdToken())).toBe('not an access token: expected typ at+jwt');
    expect(await rejection(await asIdToken('JWT'))).toBe('not an access token: expected typ at+jwt');
    expect(await rejection(await asIdToken('logout+jwt'))).toBe('not an access token: typ is logout+jwt');
    await expect(sut.verify(await asIdToken('application/at+jwt'))).resolves.toMatchObject({
      identity: { id: 'alice' },
    });
  });

  it('refuses a token without iat, or issued longer ago than the maximum age, even if it has not expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await rejection(await signed({}, (jwt) => jwt.setExpirationTime(now + 60)))).toBe(
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    );
    const old = await signed({}, (jwt) => jwt.setIssuedAt(now - 24 * 3600 - 60).setExpirationTime(now + 3600));
    expect(await rejection(old)).toBe('ERR_JWT_EXPIRED');
    const young = await signed({}, (jwt) => jwt.setIssuedAt(now - 23 * 3600).setExpirationTime(now + 3600));
    await expect(sut.verify(young)).resolves.toMatchObject({ identity: { id: 'alice' } });
  });

  it('refuses a token without exp', async () => {
    expect(await rejection(await signed({}, (jwt) => jwt.setIssuedAt()))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('counts only the boolean email_verified: true as verified, and refuses a non-boolean one', async () => {
    const withVerified = (value: unknown) =>
      signed({ email_verified: value }, (jwt) => jwt.setIssuedAt().setExpirationTime('5m'));
    await expect(sut.verify(await withVerified(true))).resolves.toMatchObject({ emailVerified: true });
    const unstated = await sut.verify(await withVerified(undefined));
    expect(unstated.emailVerified).toBeUndefined();
    expect(await rejection(await withVerified('true'))).toBe('email_verified is not a boolean');
    expect(await rejection(await withVerified(false))).toBe('e-mail not verified');
  });

  it('ignores roles it does not know and drops groups that could not be ids', async () => {
    const caller = await sut.verify(await mint({ roles: ['superuser', 'admin'], groups: ['engineering', "x' OR '1"] }));
    expect(caller.roles).toEqual(['admin']);
    expect(caller.identity.groups).toEqual(['engineering']);
  });

  it('refuses an expired token', async () => {
    expect(await rejection(await mint({}, -60))).toBe('ERR_JWT_EXPIRED');
  });

  it('refuses a token signed by another key (forged)', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ email: 'alice@example.com', groups: ['security'], roles: ['admin'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('alice')
      .setIssuer(auth.issuer)
      .setAudience(auth.audience)
      .setExpirationTime('1h')
      .sign(privateKey);
    expect(await rejection(forged)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const key = await loadOrCreateLocalSigningKey(auth.signingKeyFile);
    const claims = { sub: 'alice', email: 'alice@example.com', groups: [], roles: [] };
    expect(await rejection(await mintLocalToken(key, auth.issuer, 'another-api', claims, 60))).toBe(
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    );
    expect(await rejection(await mintLocalToken(key, 'someone-else', auth.audience, claims, 60))).toBe(
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    );
  });

  it('refuses an unsigned token', async () => {
    const unsigned = new UnsecuredJWT({ email: 'alice@example.com' })
      .setSubject('alice')
      .setIssuer(auth.issuer)
      .setAudience(auth.audience)
      .setExpirationTime('1h')
      .encode();
    await expect(sut.verify(unsigned)).rejects.toBeInstanceOf(TokenRejected);
  });

  it('never uses a subject that is an e-mail address or could break a query as the id: it becomes a digest', async () => {
    for (const sub of ['alice@example.com', "a' OR '1'='1"]) {
      const caller = await sut.verify(await mint({ sub }));
      expect(caller.identity.id).toMatch(/^~[a-z2-7]{26}$/);
    }
  });

  it('refuses a token without an e-mail address', async () => {
    expect(await rejection(await mint({ email: '' }))).toBe('e-mail missing or malformed: none of email is an address');
  });

  it('keeps the first key when asked again, so tokens stay valid across restarts', async () => {
    const token = await mint();
    const again = await TokenVerifier.fromConfig(auth);
    await expect(again.verify(token)).resolves.toMatchObject({ identity: { id: 'alice' } });
  });

  describe('a token it checked lately', () => {
    afterEach(() => jest.useRealTimers());
    /** Sets the clock that both latchkey and jose read; timers and promises run as usual. */
    const clockAt = (ms: number) =>
      jest.useFakeTimers({ now: ms, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });

    it('is taken again without another signature check, as the same caller, which nobody can change', async () => {
      const token = await mint({ roles: ['auditor'] }, 600);
      const first = await sut.verify(token);
      signatureChecks.mockClear();
      const again = await sut.verify(token);
      expect(signatureChecks).not.toHaveBeenCalled();
      expect(again).toEqual(first);
      expect(() => again.roles.push('admin')).toThrow(TypeError);
      expect(() => again.identity.groups.push('security')).toThrow(TypeError);
      // Another token of the same person is checked on its own.
      await sut.verify(await mint({ roles: ['auditor'] }, 601));
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('is checked again after a minute, and refused once it has expired', async () => {
      const token = await mint({}, 90);
      await sut.verify(token);
      const now = Date.now();
      signatureChecks.mockClear();
      clockAt(now + 61_000);
      await sut.verify(token);
      expect(signatureChecks).toHaveBeenCalledTimes(1);
      // Past its expiry and the clock tolerance: checked again, and refused.
      clockAt(now + 96_000);
      expect(await rejection(token)).toBe('ERR_JWT_EXPIRED');
      expect(signatureChecks).toHaveBeenCalledTimes(2);
    });

    it('is refused once its maximum age passes, even before its expiry', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await signed({}, (jwt) => jwt.setIssuedAt(now - 24 * 3600 + 20).setExpirationTime(now + 3600));
      await sut.verify(token);
      clockAt((now + 30) * 1000);
      expect(await rejection(token)).toBe('ERR_JWT_EXPIRED');
    });
  });
});
