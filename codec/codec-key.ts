import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** A payload encryption key: 32 bytes for AES-256-GCM, with the id written into every encrypted payload. */
export interface CodecKey {
  id: string;
  key: Buffer;
}

export const CODEC_KEY_BYTES = 32;

export class CodecKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecKeyError';
  }
}

const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

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
  if (!KEY_ID_PATTERN.test(keyId))
    throw new CodecKeyError('codec key id must be 1-64 letters, digits, ".", "_" or "-"');
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
