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

/** Builds the caller from verified claims; anything unexpected in them refuses the token. */
export function callerFromClaims(payload: JWTPayload): Caller {
  const { sub, email } = payload;
  if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub))
    throw new TokenRejected('subject missing or not a plain id');
  if (typeof email !== 'string' || !EMAIL_PATTERN.test(email)) throw new TokenRejected('e-mail missing or malformed');
  if (payload.email_verified === false) throw new TokenRejected('e-mail not verified');
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
  };
}

/** Verifies bearer tokens: signature, issuer, audience, expiry, then the claims latchkey needs. */
export class TokenVerifier {
  private constructor(
    private readonly key: KeyLike | JWTVerifyGetKey,
    private readonly issuer: string,
    private readonly audience: string,
    private readonly algorithms: string[],
  ) {}

  static async fromConfig(auth: LatchkeyConfig['auth']): Promise<TokenVerifier> {
    if (auth.mode === 'local') {
      const publicKey = await loadLocalVerificationKey(auth.publicKeyFile, auth.signingKeyFile);
      return new TokenVerifier(publicKey, auth.issuer, auth.audience, [LOCAL_TOKEN_ALGORITHM]);
    }
    const jwks = createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    return new TokenVerifier(jwks, auth.issuer, auth.audience, ASYMMETRIC_ALGORITHMS);
  }

  async verify(token: string): Promise<Caller> {
    let payload: JWTPayload;
    try {
      const options = {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: this.algorithms,
        requiredClaims: ['sub', 'exp'],
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
