import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCommandSigningKey, readTrustedCommandKeys } from '../../../trust/command-keys';
import { runKeysCommand } from './keys';

describe(runKeysCommand.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-keys-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const files = () => ({
    signing: path.join(dir, 'api', 'command-signing.jwk.json'),
    trusted: path.join(dir, 'worker', 'command-trusted-keys.jwks.json'),
    codec: path.join(dir, 'codec', 'payload-codec.key'),
    internal: path.join(dir, 'worker', 'internal-messages.key'),
  });

  async function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runKeysCommand(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out, err };
  }

  const init = ({ signing, trusted, codec, internal } = files()) =>
    run([
      'init',
      '--command-signing-key',
      signing,
      '--trusted-command-keys',
      trusted,
      '--codec-key',
      codec,
      '--internal-key',
      internal,
    ]);

  it('makes the signing key, the set that trusts it, the codec and internal keys, each readable by its owner only', async () => {
    const { signing, trusted, codec, internal } = files();
    const sut = await init();
    expect(sut).toEqual({
      code: 0,
      out: [`created ${signing}`, `created ${trusted}`, `created ${codec}`, `created ${internal}`],
      err: [],
    });
    for (const file of [signing, trusted, codec, internal]) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(fs.readFileSync(internal, 'utf8').trim(), 'base64')).toHaveLength(32);
    const key = loadCommandSigningKey(signing, { create: false });
    expect(Object.keys(readTrustedCommandKeys(trusted))).toEqual([key.id]);
    expect(fs.readFileSync(trusted, 'utf8')).not.toContain('"d"');
    expect(Buffer.from(fs.readFileSync(codec, 'utf8').trim(), 'base64')).toHaveLength(32);
  });

  it('keeps every file that exists, byte for byte, when run again', async () => {
    const { signing, trusted, codec, internal } = files();
    await init();
    const before = [signing, trusted, codec, internal].map((file) => fs.readFileSync(file, 'utf8'));
    const sut = await init();
    expect(sut.code).toBe(0);
    expect(sut.out).toEqual([`kept ${signing}`, `kept ${trusted}`, `kept ${codec}`, `kept ${internal}`]);
    expect([signing, trusted, codec, internal].map((file) => fs.readFileSync(file, 'utf8'))).toEqual(before);
  });

  it('never widens an existing trusted set, and says when it does not trust the signing key', async () => {
    const { signing, trusted } = files();
    await init();
    fs.rmSync(signing);
    const before = fs.readFileSync(trusted, 'utf8');
    const sut = await run(['init', '--command-signing-key', signing, '--trusted-command-keys', trusted]);
    expect(sut.code).toBe(1);
    expect(sut.err.join('\n')).toMatch(/does not trust the signing key/);
    expect(fs.readFileSync(trusted, 'utf8')).toBe(before);
  });

  it.each([
    [[], 'unknown verb'],
    [['init'], 'name at least one file'],
    [['init', '--trusted-command-keys', '/tmp/x.json'], '--command-signing-key too'],
    [['init', '--bogus'], 'bogus'],
  ])('refuses %j', async (argv, message) => {
    const sut = await run(argv);
    expect(sut.code).toBe(2);
    expect(sut.err.join('\n')).toContain(message);
  });
});
