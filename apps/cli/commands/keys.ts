import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadOrCreateCodecKey } from '../../../codec';
import { loadCommandSigningKey, readTrustedCommandKeys, trustCommandKey } from '../../../trust/command-keys';
import type { CommandIo } from '../io';

const HELP = `latchkey keys init: make a deployment's keys once (the compose setup service runs it)

  keys init [--command-signing-key FILE] [--trusted-command-keys FILE] [--codec-key FILE] [--internal-key FILE]

  --command-signing-key   the API's Ed25519 private JWK (with a kid) that signs commands to workflows
  --trusted-command-keys  the workers' JWK Set of trusted public keys; made with the signing key's public half
                          (needs --command-signing-key)
  --codec-key             the payload encryption key (32 random bytes, base64)
  --internal-key          the workers' key of messages between their workflows (32 random bytes, base64)

  Every file is written with mode 0600 and never overwritten: a file that exists is kept as it is, so running
  this again is harmless. It prints one line per file: created or kept.`;

/** `latchkey keys init ...`: `argv` holds the words after `keys`. Resolves to the exit code. */
export async function runKeysCommand(argv: string[], io: CommandIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== 'init') {
    io.err(verb === '--help' || verb === '-h' ? HELP : `keys: unknown verb "${verb ?? ''}"\n\n${HELP}`);
    return verb === '--help' || verb === '-h' ? 0 : 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        'command-signing-key': { type: 'string' },
        'trusted-command-keys': { type: 'string' },
        'codec-key': { type: 'string' },
        'internal-key': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const signingFile = values['command-signing-key'];
  const trustedFile = values['trusted-command-keys'];
  const codecFile = values['codec-key'];
  const internalFile = values['internal-key'];
  if (!signingFile && !trustedFile && !codecFile && !internalFile) {
    io.err(`keys init: name at least one file\n\n${HELP}`);
    return 2;
  }
  if (trustedFile && !signingFile) {
    io.err('keys init: --trusted-command-keys is made from the signing key: give --command-signing-key too');
    return 2;
  }

  const said = (file: string, existed: boolean) => io.out(`${existed ? 'kept' : 'created'} ${file}`);
  if (signingFile) {
    const existed = fs.existsSync(signingFile);
    const key = loadCommandSigningKey(signingFile, { create: true });
    said(signingFile, existed);
    if (trustedFile) {
      const trustedExisted = fs.existsSync(trustedFile);
      if (!trustedExisted) trustCommandKey(trustedFile, key);
      said(trustedFile, trustedExisted);
      // A set that exists is never changed here: trusting a new key is a decision (docs/security.md, rotation).
      if (!(key.id in readTrustedCommandKeys(trustedFile))) {
        io.err(
          `keys init: ${trustedFile} does not trust the signing key "${key.id}"; workers will refuse its commands ` +
            'until its public half is added (docs/security.md)',
        );
        return 1;
      }
    }
  }
  if (codecFile) {
    const existed = fs.existsSync(codecFile);
    // The id is not stored in the file: each process takes it from LATCHKEY_CODEC_KEY_ID.
    await loadOrCreateCodecKey(codecFile, 'setup');
    said(codecFile, existed);
  }
  if (internalFile) {
    const existed = fs.existsSync(internalFile);
    // The same format as a payload key: 32 random bytes in base64, made exclusively.
    await loadOrCreateCodecKey(internalFile, 'internal');
    said(internalFile, existed);
  }
  return 0;
}
