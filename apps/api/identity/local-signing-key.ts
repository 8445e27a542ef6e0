import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike, SignJWT } from 'jose';
import type { Role } from '../../../contracts/identity';

/** The development signing key: an ES256 pair kept in one file (mode 0600), made on first use. */
export interface LocalSigningKey {
  kid: string;
  privateKey: KeyLike;
  publicKey: KeyLike;
}

export const LOCAL_TOKEN_ALGORITHM = 'ES256';

async function createKeyFile(file: string): Promise<void> {
  const { privateKey } = await generateKeyPair(LOCAL_TOKEN_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written under a temporary name and linked into place, so a concurrent first run (the API and the
  // token command) never reads a half-written file and exactly one key wins.
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ ...jwk, kid, alg: LOCAL_TOKEN_ALGORITHM, use: 'sig' }), {
    mode: 0o600,
    flag: 'wx',
  });
  try {
    fs.linkSync(temporary, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.unlinkSync(temporary);
  }
}

export async function loadOrCreateLocalSigningKey(file: string): Promise<LocalSigningKey> {
  if (!fs.existsSync(file)) await createKeyFile(file);
  const jwk = JSON.parse(fs.readFileSync(file, 'utf8')) as JWK & { kid?: string };
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) {
    throw new Error(`${file} does not hold an ES256 private key`);
  }
  const { d: _private, ...publicJwk } = jwk;
  return {
    kid: jwk.kid ?? (await calculateJwkThumbprint(publicJwk)),
    privateKey: (await importJWK(jwk, LOCAL_TOKEN_ALGORITHM)) as KeyLike,
    publicKey: (await importJWK(publicJwk, LOCAL_TOKEN_ALGORITHM)) as KeyLike,
  };
}

export interface LocalTokenClaims {
  sub: string;
  email: string;
  groups: string[];
  roles: Role[];
}

export async function mintLocalToken(
  key: LocalSigningKey,
  issuer: string,
  audience: string,
  claims: LocalTokenClaims,
  ttlSeconds: number,
): Promise<string> {
  return new SignJWT({ email: claims.email, groups: claims.groups, roles: claims.roles })
    .setProtectedHeader({ alg: LOCAL_TOKEN_ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}
