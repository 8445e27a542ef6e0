import { type KeyObject, sign } from 'node:crypto';
import { loadSigningKeyFile } from '../trust/command-keys';

/**
 * The key that signs audit exports (Ed25519, a JWK with its `kid`, mode 0600), kept apart from the API's
 * command key: whoever exports the audit need not be able to decide anything. Its public half goes to
 * auditors as a JWK Set (`latchkey audit public-key`), the format `audit verify --keys` reads.
 */
export interface AuditSigningKey {
  id: string;
  privateKey: KeyObject;
}

/** Reads the audit signing key, making one (mode 0600, exclusively) on first use when `create` allows it. */
export function loadAuditSigningKey(file: string, { create }: { create: boolean }): AuditSigningKey {
  return loadSigningKeyFile(file, { create, kidPrefix: 'audit', what: 'audit signing key' });
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
