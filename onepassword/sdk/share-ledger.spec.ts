import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OnePasswordError } from '../port';
import { ShareLinkLedger } from './share-ledger';

describe(ShareLinkLedger.name, () => {
  let dir: string;
  let file: string;
  let now: Date;
  const key = randomBytes(32);
  const link = { url: 'https://share.1password.com/s#secret-part', expiresAt: '2026-11-28T10:00:00.000Z' };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'latchkey-ledger-'));
    file = path.join(dir, 'ledger.json');
    now = new Date('2026-11-27T10:00:00.000Z');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns a recorded link to the same key and stores it sealed', async () => {
    const sut = new ShareLinkLedger({ file, key, now: () => now });
    await sut.markSharePending('k1');
    await sut.recordShare('k1', link);
    expect(await sut.lookupShare('k1')).toEqual({ status: 'created', link, attempts: 1 });
    expect(await sut.lookupShare('k2')).toEqual({ status: 'absent' });
    expect(await readFile(file, 'utf8')).not.toContain('secret-part');
  });

  it('shows a pending attempt, and counts attempts', async () => {
    const sut = new ShareLinkLedger({ file, key, now: () => now });
    await sut.markSharePending('k1');
    await sut.markSharePending('k1');
    expect(await sut.lookupShare('k1')).toEqual({ status: 'pending', attempts: 2 });
  });

  it('cannot open a link with another key, or under another idempotency key', async () => {
    await new ShareLinkLedger({ file, key, now: () => now }).recordShare('k1', link);
    const other = new ShareLinkLedger({ file, key: randomBytes(32), now: () => now });
    await expect(other.lookupShare('k1')).rejects.toBeInstanceOf(OnePasswordError);

    const ledger = JSON.parse(await readFile(file, 'utf8')) as { shares: Record<string, unknown> };
    ledger.shares.k2 = ledger.shares.k1;
    await import('node:fs/promises').then((fs) => fs.writeFile(file, JSON.stringify(ledger)));
    await expect(new ShareLinkLedger({ file, key, now: () => now }).lookupShare('k2')).rejects.toBeInstanceOf(
      OnePasswordError,
    );
  });

  it('drops links once they expired, since no retry can use them', async () => {
    const sut = new ShareLinkLedger({ file, key, now: () => now });
    await sut.recordShare('k1', link);
    now = new Date('2026-11-28T10:00:01.000Z');
    expect(await sut.lookupShare('k1')).toEqual({ status: 'absent' });
  });

  it('remembers rotations by key', async () => {
    const sut = new ShareLinkLedger({ file, key, now: () => now });
    await sut.recordRotation('r1', { vaultId: 'v', itemId: 'i', version: 3 });
    expect(await sut.lookupRotation('r1')).toEqual({ vaultId: 'v', itemId: 'i', version: 3 });
    expect(await sut.lookupRotation('r2')).toBeUndefined();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new ShareLinkLedger({ file, key: randomBytes(16) })).toThrow('32 bytes');
  });
});
