import * as crypto from 'node:crypto';
import { REQUEST_ID_PATTERN } from '../../../domain/ids';

// Crockford's base32, lowercased: no i, l, o, u, so ids read aloud without confusion.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

function timePart(nowMs: number): string {
  let out = '';
  for (let value = nowMs, i = 0; i < 10; i++, value = Math.floor(value / 32)) out = ALPHABET[value % 32] + out;
  return out;
}

/** A new request id: `req_` and a lowercase ULID (time-ordered, 80 random bits). */
export function newRequestId(nowMs = Date.now()): string {
  return `req_${timePart(nowMs)}${base32(crypto.randomBytes(10), 16)}`;
}

/**
 * The request id an idempotency key stands for: a hash of the caller and the key, so the same caller
 * sending the same key gets the same id (and Temporal's duplicate-id rejection does the rest), while
 * two callers using the same key never collide.
 */
export function idempotentRequestId(callerId: string, idempotencyKey: string): string {
  const digest = crypto.createHash('sha256').update(`latchkey-idempotency\0${callerId}\0${idempotencyKey}`).digest();
  return `req_${base32(digest, 26)}`;
}

export function isRequestId(value: string): boolean {
  return REQUEST_ID_PATTERN.test(value);
}

/** What an Idempotency-Key header may hold. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;
