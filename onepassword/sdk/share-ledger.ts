import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { withFileLock, writeFileAtomic } from '../file-lock';
import { OnePasswordError, type RotationResult, type ShareLink } from '../port';

/**
 * The worker-side idempotency ledger of the real adapter. 1Password cannot list, fetch or revoke a
 * share link, so a retried grant can only find its link here. Links are sealed with AES-256-GCM
 * (the idempotency key is the associated data, so a sealed link cannot be moved to another key).
 *
 * The remaining window, stated honestly: a crash after 1Password created a link and before the
 * ledger recorded it leaves a link latchkey cannot see. The entry is then `pending`; the retry
 * creates a second link (same recipient, same bucket, one view) and the entry counts the attempts
 * so operators can see it happened. The ledger is a file on one worker host: workers on other hosts
 * sharing a task queue need a shared path for it.
 */
export type ShareLedgerLookup =
  | { status: 'absent' }
  | { status: 'pending'; attempts: number }
  | { status: 'created'; link: ShareLink; attempts: number };

interface SealedLink {
  iv: string;
  tag: string;
  data: string;
}

interface LedgerFile {
  version: 1;
  shares: Record<string, { attempts: number; startedAt: string; expiresAt?: string; sealed?: SealedLink }>;
  rotations: Record<string, RotationResult & { at: string }>;
}

export interface ShareLinkLedgerOptions {
  file: string;
  /** 32-byte key for sealing links, from configuration (e.g. the payload codec's key file). */
  key: Buffer;
  now?: () => Date;
  /** Rotation entries and pending shares are kept this long; created shares until their link expires. */
  retentionMs?: number;
}

export class ShareLinkLedger {
  private readonly file: string;
  private readonly key: Buffer;
  private readonly now: () => Date;
  private readonly retentionMs: number;

  constructor(options: ShareLinkLedgerOptions) {
    if (options.key.length !== 32) throw new Error('the share-link ledger key must be 32 bytes');
    this.file = options.file;
    this.key = options.key;
    this.now = options.now ?? (() => new Date());
    this.retentionMs = options.retentionMs ?? 31 * 86_400_000;
  }

  lookupShare(idempotencyKey: string): Promise<ShareLedgerLookup> {
    return this.update((ledger) => {
      const entry = ledger.shares[idempotencyKey];
      if (!entry) return { status: 'absent' };
      if (!entry.sealed || !entry.expiresAt) return { status: 'pending', attempts: entry.attempts };
      return {
        status: 'created',
        attempts: entry.attempts,
        link: { url: this.open(idempotencyKey, entry.sealed), expiresAt: entry.expiresAt },
      };
    });
  }

  /** Written before asking 1Password, so a crash in between is visible afterwards. */
  markSharePending(idempotencyKey: string): Promise<void> {
    return this.update((ledger) => {
      const entry = ledger.shares[idempotencyKey];
      ledger.shares[idempotencyKey] = {
        attempts: (entry?.attempts ?? 0) + 1,
        startedAt: entry?.startedAt ?? this.now().toISOString(),
      };
    });
  }

  recordShare(idempotencyKey: string, link: ShareLink): Promise<void> {
    return this.update((ledger) => {
      const entry = ledger.shares[idempotencyKey];
      ledger.shares[idempotencyKey] = {
        attempts: entry?.attempts ?? 1,
        startedAt: entry?.startedAt ?? this.now().toISOString(),
        expiresAt: link.expiresAt,
        sealed: this.seal(idempotencyKey, link.url),
      };
    });
  }

  lookupRotation(idempotencyKey: string): Promise<RotationResult | undefined> {
    return this.update((ledger) => {
      const entry = ledger.rotations[idempotencyKey];
      return entry && { itemId: entry.itemId, vaultId: entry.vaultId, version: entry.version };
    });
  }

  recordRotation(idempotencyKey: string, result: RotationResult): Promise<void> {
    return this.update((ledger) => {
      ledger.rotations[idempotencyKey] = { ...result, at: this.now().toISOString() };
    });
  }

  private seal(idempotencyKey: string, url: string): SealedLink {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(idempotencyKey));
    const data = Buffer.concat([cipher.update(url, 'utf8'), cipher.final()]);
    return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  private open(idempotencyKey: string, sealed: SealedLink): string {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(idempotencyKey));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new OnePasswordError('invalid-argument', 'the share-link ledger entry cannot be opened with this key');
    }
  }

  private update<T>(apply: (ledger: LedgerFile) => T): Promise<T> {
    return withFileLock(`${this.file}.lock`, async () => {
      const ledger = await this.load();
      this.prune(ledger);
      const result = apply(ledger);
      await writeFileAtomic(this.file, JSON.stringify(ledger, null, 2) + '\n');
      return result;
    });
  }

  private async load(): Promise<LedgerFile> {
    try {
      return JSON.parse(await fs.readFile(this.file, 'utf8')) as LedgerFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return { version: 1, shares: {}, rotations: {} };
    }
  }

  /** A created link is useless to a retry once it expired; old pending and rotation entries go too. */
  private prune(ledger: LedgerFile): void {
    const now = this.now().getTime();
    for (const [key, entry] of Object.entries(ledger.shares)) {
      const end = entry.expiresAt ? Date.parse(entry.expiresAt) : Date.parse(entry.startedAt) + this.retentionMs;
      if (end < now) delete ledger.shares[key];
    }
    for (const [key, entry] of Object.entries(ledger.rotations)) {
      if (Date.parse(entry.at) + this.retentionMs < now) delete ledger.rotations[key];
    }
  }
}
