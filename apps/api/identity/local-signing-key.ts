import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike, SignJWT } from 'jose';
import { localPublicKeyFileBeside } from '../../../config/config';
import type { Role } from '../../../contracts/identity';

/**
 * The development signing key: an ES256 private JWK (mode 0600) that only the token-minting command and the dev
 * runner read, and its public JWK written beside it, which is all the API reads to verify tokens.
 */
export interface LocalSigningKey {
  kid: string;
  privateKey: KeyLike;
  publicKey: KeyLike;
}

export const LOCAL_TOKEN_ALGORITHM = 'ES256';

/** Writes `text` to `file` unless it exists; a concurrent first run never sees a half-written file. */
function writeOnce(file: string, text: string, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written under a temporary name and linked into place, so a concurrent first run (the API and the
  // token command) never reads a half-written file and exactly one key wins.
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, text, { mode, flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.unlinkSync(temporary);
  }
}

async function createKeyFile(file: string): Promise<void> {
  const { privateKey } = await generateKeyPair(LOCAL_TOKEN_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  writeOnce(file, JSON.stringify({ ...jwk, kid, alg: LOCAL_TOKEN_ALGORITHM, use: 'sig' }), 0o600);
}

function isEs256(jwk: JWK): boolean {
  return jwk.kty === 'EC' && jwk.crv === 'P-256';
}

/**
 * For whatever mints tokens: reads the private key, making the pair on first use, and (re)writes the public
 * file beside it when it is missing, so the API can start from that file alone.
 */
export async function loadOrCreateLocalSigningKey(
  file: string,
  publicFile: string = localPublicKeyFileBeside(file),
): Promise<LocalSigningKey> {
  if (!fs.existsSync(file)) await createKeyFile(file);
  const jwk = JSON.parse(fs.readFileSync(file, 'utf8')) as JWK & { kid?: string };
  if (!isEs256(jwk) || !jwk.d) {
    throw new Error(`${file} does not hold an ES256 private key`);
  }
  const { d: _private, ...publicJwk } = jwk;
  const kid = jwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  if (!fs.existsSync(publicFile)) writeOnce(publicFile, JSON.stringify({ ...publicJwk, kid }), 0o644);
  return {
    kid,
    privateKey: (await importJWK(jwk, LOCAL_TOKEN_ALGORITHM)) as KeyLike,
    publicKey: (await importJWK(publicJwk, LOCAL_TOKEN_ALGORITHM)) as KeyLike,
  };
}

/**
 * For the API: the public key only. A fresh development data folder has neither file yet, and then the pair is
 * made here once (local mode is refused in production unless explicitly allowed); once the public file exists,
 * the private one is never read, and need not be there at all.
 */
export async function loadLocalVerificationKey(publicFile: string, privateFile: string): Promise<KeyLike> {
  if (!fs.existsSync(publicFile)) {
    if (fs.existsSync(privateFile)) {
      throw new Error(
        `${publicFile} (the local signing key's public half) is missing; \`npm run token\` or \`npm start\` writes it`,
      );
    }
    await loadOrCreateLocalSigningKey(privateFile, publicFile);
  }
  const jwk = JSON.parse(fs.readFileSync(publicFile, 'utf8')) as JWK;
  if (!isEs256(jwk) || jwk.d !== undefined) {
    throw new Error(`${publicFile} must hold an ES256 public key, and only that`);
  }
  return (await importJWK(jwk, LOCAL_TOKEN_ALGORITHM)) as KeyLike;
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
  // Local tokens are minted by an operator for named people: their addresses count as verified.
  return new SignJWT({ email: claims.email, email_verified: true, groups: claims.groups, roles: claims.roles })
    .setProtectedHeader({ alg: LOCAL_TOKEN_ALGORITHM, kid: key.kid, typ: 'at+jwt' })
    .setSubject(claims.sub)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}
