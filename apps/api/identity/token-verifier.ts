import {
  createRemoteJWKSet,
  errors as joseErrors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type KeyLike,
} from 'jose';
import type { LatchkeyConfig } from '../../../config/config';
import type { Role } from '../../../contracts/identity';
import { type Caller, GROUP_PATTERN, ROLES, SUBJECT_PATTERN } from './caller';
import { LOCAL_TOKEN_ALGORITHM, loadLocalVerificationKey } from './local-signing-key';

/** Why a token was refused; logged (never with the token), while the client only hears "401". */
export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(`token rejected: ${reason}`);
    this.name = 'TokenRejected';
  }
}

const EMAIL_PATTERN = /^[^\s@"'<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/**
 * Builds the caller from verified claims; anything unexpected in them refuses the token. Only the boolean
 * `email_verified: true` verifies the address (latchkey's own local tokens state it too).
 */
export function callerFromClaims(payload: JWTPayload): Caller {
  const { sub, email } = payload;
  if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub))
    throw new TokenRejected('subject missing or not a plain id');
  if (typeof email !== 'string' || !EMAIL_PATTERN.test(email)) throw new TokenRejected('e-mail missing or malformed');
  if (payload.email_verified === false) throw new TokenRejected('e-mail not verified');
  // Anything but the boolean true (a string "true", a number) is not a verification.
  if (payload.email_verified !== undefined && typeof payload.email_verified !== 'boolean') {
    throw new TokenRejected('email_verified is not a boolean');
  }
  const emailVerified = payload.email_verified === true;
  const groups = payload.groups ?? [];
  const roles = payload.roles ?? [];
  if (!Array.isArray(groups) || !groups.every((group) => typeof group === 'string')) {
    throw new TokenRejected('groups claim is not a list of strings');
  }
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
    throw new TokenRejected('roles claim is not a list of strings');
  }
  return {
    // Groups that could not be ids are dropped: that can only take rights away, never add them.
    identity: { id: sub, email, groups: [...new Set(groups.filter((group) => GROUP_PATTERN.test(group)))] },
    roles: ROLES.filter((role: Role) => roles.includes(role)),
    ...(emailVerified ? { emailVerified: true as const } : {}),
  };
}

/**
 * Verifies bearer tokens: signature, issuer, audience, expiry, age (`iat` required and not older than
 * the configured maximum, so a long-lived token leaked once is not good for ever), then the claims.
 */
export class TokenVerifier {
  private constructor(
    private readonly key: KeyLike | JWTVerifyGetKey,
    private readonly issuer: string,
    private readonly audience: string,
    private readonly algorithms: string[],
    private readonly maxTokenAgeSeconds: number,
  ) {}

  static async fromConfig(auth: LatchkeyConfig['auth']): Promise<TokenVerifier> {
    const maxAge = auth.maxTokenAgeSeconds;
    if (auth.mode === 'local') {
      const publicKey = await loadLocalVerificationKey(auth.publicKeyFile, auth.signingKeyFile);
      return new TokenVerifier(publicKey, auth.issuer, auth.audience, [LOCAL_TOKEN_ALGORITHM], maxAge);
    }
    const jwks = createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    return new TokenVerifier(jwks, auth.issuer, auth.audience, ASYMMETRIC_ALGORITHMS, maxAge);
  }

  async verify(token: string): Promise<Caller> {
    let payload: JWTPayload;
    try {
      const options = {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: this.algorithms,
        requiredClaims: ['sub', 'exp', 'iat'],
        maxTokenAge: this.maxTokenAgeSeconds,
        clockTolerance: 5,
      };
      // The two overloads of jwtVerify differ only in the key's type.
      ({ payload } =
        typeof this.key === 'function'
          ? await jwtVerify(token, this.key, options)
          : await jwtVerify(token, this.key, options));
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw new TokenRejected(err.code);
      throw err;
    }
    return callerFromClaims(payload);
  }
}
