import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { withFileLock, writeFileAtomic } from './file-lock';

describe(withFileLock.name, () => {
  let dir: string;
  let lock: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'latchkey-file-lock-'));
    lock = path.join(dir, 'missing', 'state.json.lock');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes the folder, runs the work alone and releases the lock, also when the work throws', async () => {
    await expect(withFileLock(lock, () => 42)).resolves.toBe(42);
    expect(fs.existsSync(lock)).toBe(false);
    await expect(
      withFileLock(lock, () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('makes a second holder wait until the first is done', async () => {
    const order: string[] = [];
    let release!: () => void;
    const first = withFileLock(lock, async () => {
      order.push('first in');
      await new Promise<void>((resolve) => (release = resolve));
      order.push('first out');
    });
    const second = withFileLock(lock, () => order.push('second in'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('gives up as unavailable (retryable) while a live holder keeps it', async () => {
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, 'someone else');
    await expect(withFileLock(lock, () => 'never', { timeoutMs: 50 })).rejects.toMatchObject({
      kind: 'unavailable',
    });
    expect(fs.readFileSync(lock, 'utf8')).toBe('someone else');
  });

  it('takes over the lock of a holder that died', async () => {
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, 'a dead process');
    const longAgo = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, longAgo, longAgo);
    await expect(withFileLock(lock, () => 'taken', { staleMs: 30_000 })).resolves.toBe('taken');
    expect(fs.existsSync(lock)).toBe(false);
  });
});

describe(writeFileAtomic.name, () => {
  it('replaces the file whole, with its mode, and leaves no temporary file', async () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'latchkey-atomic-'));
    const file = path.join(dir, 'sub', 'state.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.json']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
