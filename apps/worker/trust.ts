import * as fs from 'node:fs';
import type { LatchkeyConfig } from '../../config/config';
import type { WorkerTrust } from '../../contracts/command';
import { loadOrCreateCodecKey } from '../../codec';
import { readTrustedCommandKeys } from '../../trust/command-keys';

/**
 * What a worker trusts, from its configuration: the API keys whose commands it accepts (the file must exist:
 * a worker that trusts nobody would refuse every request), and the internal message key, made on first use.
 */
export async function loadWorkerTrust(config: LatchkeyConfig): Promise<WorkerTrust> {
  return {
    commandKeys: readTrustedCommandKeys(config.commands.trustedKeysFile),
    internalKey: (await loadOrCreateCodecKey(config.worker.internalKeyFile, 'internal')).key.toString('hex'),
  };
}

/**
 * The same for replaying histories: replay runs no validator and reads the start's verdict from history, so
 * only the internal key matters (lease messages are checked again); nothing is made when a file is missing.
 */
export async function loadReplayTrust(config: LatchkeyConfig): Promise<WorkerTrust> {
  const file = config.worker.internalKeyFile;
  const internalKey = fs.existsSync(file) ? (await loadOrCreateCodecKey(file, 'internal')).key.toString('hex') : '';
  return { commandKeys: {}, internalKey };
}
