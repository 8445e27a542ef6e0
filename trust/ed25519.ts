import { ed25519 } from '@noble/curves/ed25519';
import { sha512 } from '@noble/hashes/sha2';
import { bytesToNumberLE, concatBytes, hexToBytes } from '@noble/curves/utils';

/** Whether `signature` is an Ed25519 signature of `message` by the key `publicKeyHex` (32 bytes, hex). */
export type SignatureCheck = (signature: Uint8Array, message: Uint8Array, publicKeyHex: string) => boolean;

const { Point } = ed25519;
const ORDER = Point.Fn.ORDER;
/** Window of the precomputed multiples of a trusted key: 6 was fastest here, at about 360 KiB per key. */
const KEY_WINDOW = 6;
/** Trusted keys are few (the API's current key and the one before it); more than this is not a cache any more. */
const MAX_CACHED_KEYS = 16;

interface DecodedKey {
  point: InstanceType<typeof Point>;
  bytes: Uint8Array;
}

/** Strict RFC 8032 (not ZIP 215), as OpenSSL checks: noble's own verification. */
export const strictEd25519: SignatureCheck = (signature, message, publicKeyHex) => {
  try {
    return ed25519.verify(signature, message, hexToBytes(publicKeyHex), { zip215: false });
  } catch {
    return false;
  }
};

/**
 * A check that decodes each trusted key once (`decode` answers null for a key that can verify nothing) and keeps
 * it: decoding is most of the work of one check. Trusted keys are few; more than `MAX_CACHED_KEYS` start afresh.
 */
export function decodingKeysOnce<Key>(
  decode: (publicKeyHex: string) => Key | null,
  holds: (key: Key, signature: Uint8Array, message: Uint8Array) => boolean,
): SignatureCheck {
  const keys = new Map<string, Key | null>();
  const keyOf = (publicKeyHex: string): Key | null => {
    if (keys.has(publicKeyHex)) return keys.get(publicKeyHex)!;
    let key: Key | null;
    try {
      key = decode(publicKeyHex);
    } catch {
      key = null;
    }
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(publicKeyHex, key);
    return key;
  };
  return (signature, message, publicKeyHex) => {
    const key = keyOf(publicKeyHex);
    if (!key || signature.length !== 64) return false;
    try {
      return holds(key, signature, message);
    } catch {
      return false;
    }
  };
}

/**
 * The same check as `strictEd25519`, step by step as noble makes it, but with each trusted key decoded once and its
 * multiples precomputed: the multiplication by the key is most of a verification, and the workflow sandbox
 * (which cannot reach node:crypto) verifies every signed Update in its validator, on the approval's path. About
 * 4 times faster than noble's `verify`, which decodes the key every time. Pure code: the sandbox runs it.
 */
export function cachedKeyEd25519(): SignatureCheck {
  return decodingKeysOnce(
    (publicKeyHex): DecodedKey | null => {
      const point = Point.fromBytes(hexToBytes(publicKeyHex), false);
      // A key of small order would let anyone sign: noble refuses it when not in ZIP 215 mode, and so do we.
      if (point.isSmallOrder()) return null;
      return { point: point.precompute(KEY_WINDOW, false), bytes: point.toBytes() };
    },
    (key, signature, message) => {
      const R = Point.fromBytes(signature.subarray(0, 32), false);
      // Throws for s outside [0, L): a signature is not malleable.
      const SB = Point.BASE.multiplyUnsafe(bytesToNumberLE(signature.subarray(32)));
      const k = bytesToNumberLE(sha512(concatBytes(R.toBytes(), key.bytes, message))) % ORDER;
      // [8][S]B = [8]R + [8][k]A, as noble checks it.
      return R.add(key.point.multiplyUnsafe(k)).subtract(SB).clearCofactor().is0();
    },
  );
}

/**
 * The one cache of the workflow sandbox: this module is loaded once per worker thread and shared between its
 * workflows (apps/worker/worker.ts preloads trust/command, which imports it). Made per workflow, it would decode
 * and precompute each key for every approval, which costs more than it saves.
 */
export const sharedKeyEd25519 = cachedKeyEd25519();
