import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** A payload encryption key: 32 bytes for AES-256-GCM, with the id written into every encrypted payload. */
export interface CodecKey {
  id: string;
  key: Buffer;
}

/**
 * The keys a process knows: payloads are encrypted with `current` and decrypted with whichever key
 * their id names, so a key can be rotated while requests are in flight (docs/security.md).
 */
export interface CodecKeyring {
  current: CodecKey;
  decodeOnly: readonly CodecKey[];
}

/** Where the keys live, as config/config.ts reads them. */
export interface CodecKeyringConfig {
  keyFile: string;
  keyId: string;
  decodeKeys: ReadonlyArray<{ id: string; file: string }>;
}

export const CODEC_KEY_BYTES = 32;

export class CodecKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecKeyError';
  }
}

const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

function checkKeyId(keyId: string): void {
  if (!KEY_ID_PATTERN.test(keyId))
    throw new CodecKeyError('codec key id must be 1-64 letters, digits, ".", "_" or "-"');
}

function parseKeyFile(text: string, file: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== CODEC_KEY_BYTES) {
    throw new CodecKeyError(`codec key file ${file} must hold ${CODEC_KEY_BYTES} bytes in base64`);
  }
  return key;
}

/**
 * Reads the key from `file` (base64), creating it with a fresh random key and mode 0600 on first use.
 * Creation is exclusive, so two processes starting together end up with the same key.
 */
export async function loadOrCreateCodecKey(file: string, keyId: string): Promise<CodecKey> {
  checkKeyId(keyId);
  try {
    return { id: keyId, key: parseKeyFile(await fs.readFile(file, 'utf8'), file) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(CODEC_KEY_BYTES);
  try {
    await fs.writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return { id: keyId, key };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process created it first: use theirs.
    return { id: keyId, key: parseKeyFile(await fs.readFile(file, 'utf8'), file) };
  }
}

/** Reads an existing key: a decode-only key is never created, since a new one could decrypt nothing. */
async function readCodecKey(file: string, keyId: string): Promise<CodecKey> {
  checkKeyId(keyId);
  return { id: keyId, key: parseKeyFile(await fs.readFile(file, 'utf8'), file) };
}

/** Builds a keyring, refusing two keys under one id (a payload must name exactly one key). */
export function codecKeyring(current: CodecKey, decodeOnly: readonly CodecKey[] = []): CodecKeyring {
  const ids = new Set<string>();
  for (const { id } of [current, ...decodeOnly]) {
    if (ids.has(id)) throw new CodecKeyError(`codec key id "${id}" is configured twice`);
    ids.add(id);
  }
  return { current, decodeOnly };
}

/**
 * The one way a process loads its payload keys: the current key (created on first use, as before)
 * and the decode-only keys of a rotation (which must exist).
 */
export async function loadCodecKeyring(config: CodecKeyringConfig): Promise<CodecKeyring> {
  const current = await loadOrCreateCodecKey(config.keyFile, config.keyId);
  const decodeOnly = await Promise.all(config.decodeKeys.map(({ id, file }) => readCodecKey(file, id)));
  return codecKeyring(current, decodeOnly);
}
