import { createHash, createPrivateKey, generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The key that signs audit exports (Ed25519, a JWK with its `kid`, mode 0600), kept apart from the API's
 * command key: whoever exports the audit need not be able to decide anything. Its public half goes to
 * auditors as a JWK Set (`latchkey audit public-key`), the format `audit verify --keys` reads.
 */
export interface AuditSigningKey {
  id: string;
  privateKey: KeyObject;
}

export class AuditKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditKeyError';
  }
}

interface Ed25519PrivateJwk extends JsonWebKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d: string;
  kid: string;
}

function isEd25519PrivateJwk(value: unknown): value is Ed25519PrivateJwk {
  const jwk = value as Partial<Ed25519PrivateJwk> | null;
  return (
    typeof jwk === 'object' &&
    jwk !== null &&
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    typeof jwk.x === 'string' &&
    typeof jwk.d === 'string' &&
    typeof jwk.kid === 'string' &&
    /^[A-Za-z0-9._-]{1,64}$/.test(jwk.kid)
  );
}

/** Reads the audit signing key, making one (mode 0600, exclusively) on first use when `create` allows it. */
export function loadAuditSigningKey(file: string, { create }: { create: boolean }): AuditSigningKey {
  if (!fs.existsSync(file)) {
    if (!create) throw new AuditKeyError(`the audit signing key ${file} does not exist`);
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const kid = `audit-${createHash('sha256').update(jwk.x!).digest('hex').slice(0, 16)}`;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${JSON.stringify({ ...jwk, kid })}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process made it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new AuditKeyError(`${file} is not JSON`);
  }
  if (!isEd25519PrivateJwk(jwk)) throw new AuditKeyError(`${file} must hold an Ed25519 private JWK with a kid`);
  return { id: jwk.kid, privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
}

/** The public half as a JWK Set, for auditors. */
export function auditPublicKeySet(key: AuditSigningKey): { keys: Array<Record<string, string>> } {
  const { x } = key.privateKey.export({ format: 'jwk' });
  return { keys: [{ kty: 'OKP', crv: 'Ed25519', x: x!, kid: key.id, use: 'sig' }] };
}

/** Signs with the audit key: what `ChainWriter` needs. */
export function auditChainSigner(key: AuditSigningKey): { keyId: string; sign(data: Uint8Array): string } {
  return { keyId: key.id, sign: (data) => sign(null, data, key.privateKey).toString('hex') };
}
