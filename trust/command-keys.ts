import { createHash, createPrivateKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrustedKeys } from '../contracts/command';
import type { CommandSigningKey } from './command-signer';

/**
 * Key files of signed commands, both JWK: the API's private key (one Ed25519 JWK with its `kid`, mode
 * 0600) and the workers' trusted public keys (a JWK Set). Rotating is adding a key to the set, then
 * signing with it (docs/security.md).
 */
interface Ed25519Jwk extends JsonWebKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid: string;
}

export class CommandKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandKeyError';
  }
}

function isEd25519Jwk(value: unknown): value is Ed25519Jwk {
  const jwk = value as Partial<Ed25519Jwk> | null;
  return (
    typeof jwk === 'object' &&
    jwk !== null &&
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    typeof jwk.x === 'string' &&
    typeof jwk.kid === 'string' &&
    /^[A-Za-z0-9._-]{1,64}$/.test(jwk.kid)
  );
}

function writeExclusive(file: string, text: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

/**
 * Reads an Ed25519 private JWK with its `kid` (a signing key of latchkey's: the API's command key, the audit
 * key), making one on first use when `create` allows it: exclusively and with mode 0600, so two processes
 * starting together end up with the same key. `kidPrefix` names what the key is for in its id.
 */
export function loadSigningKeyFile(
  file: string,
  { create, kidPrefix, what }: { create: boolean; kidPrefix: string; what: string },
): CommandSigningKey {
  if (!fs.existsSync(file)) {
    if (!create) throw new CommandKeyError(`the ${what} ${file} does not exist`);
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const kid = `${kidPrefix}-${createHash('sha256').update(jwk.x!).digest('hex').slice(0, 16)}`;
    writeExclusive(file, `${JSON.stringify({ ...jwk, kid })}\n`);
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new CommandKeyError(`${file} is not JSON`);
  }
  if (!isEd25519Jwk(jwk) || typeof jwk.d !== 'string') {
    throw new CommandKeyError(`${file} must hold an Ed25519 private JWK with a kid`);
  }
  return { id: jwk.kid, privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
}

/** Reads the API's command signing key, making one (mode 0600) on first use when `create` allows it. */
export function loadCommandSigningKey(file: string, { create }: { create: boolean }): CommandSigningKey {
  return loadSigningKeyFile(file, { create, kidPrefix: 'cmd', what: 'command signing key' });
}

/** The public half of a signing key, as a JWK for the trusted set. */
export function publicJwkOf(key: CommandSigningKey): Ed25519Jwk {
  const { x } = key.privateKey.export({ format: 'jwk' });
  return { kty: 'OKP', crv: 'Ed25519', x: x!, kid: key.id };
}

/** Reads the trusted public keys (a JWK Set of Ed25519 keys). */
export function readTrustedCommandKeys(file: string): TrustedKeys {
  let set: { keys?: unknown };
  try {
    set = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys?: unknown };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CommandKeyError(
      missing ? `the trusted command keys ${file} do not exist` : `${file} is not a JWK Set (JSON)`,
    );
  }
  if (!Array.isArray(set.keys) || set.keys.length === 0) {
    throw new CommandKeyError(`${file} must be a JWK Set with at least one Ed25519 key`);
  }
  const keys: Record<string, string> = {};
  for (const jwk of set.keys) {
    if (!isEd25519Jwk(jwk)) throw new CommandKeyError(`${file}: every key must be an Ed25519 public JWK with a kid`);
    if (jwk.d !== undefined) throw new CommandKeyError(`${file} holds a private key: trusted keys are public only`);
    const raw = Buffer.from(jwk.x, 'base64url');
    if (raw.length !== 32) throw new CommandKeyError(`${file}: key "${jwk.kid}" is not 32 bytes`);
    keys[jwk.kid] = raw.toString('hex');
  }
  return keys;
}

/**
 * Adds a signing key's public half to the trusted set (making the file if needed): what a local stack does
 * on first start, so that its workers trust its API. A production deployment provides the set instead.
 */
export function trustCommandKey(file: string, key: CommandSigningKey): void {
  const jwk = publicJwkOf(key);
  if (writeExclusive(file, `${JSON.stringify({ keys: [jwk] }, null, 2)}\n`)) return;
  const set = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: Ed25519Jwk[] };
  if (set.keys.some((known) => known.kid === jwk.kid)) return;
  set.keys.push(jwk);
  fs.writeFileSync(file, `${JSON.stringify(set, null, 2)}\n`, { mode: 0o600 });
}
