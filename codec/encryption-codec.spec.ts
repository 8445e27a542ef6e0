import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { codecKeyring, loadCodecKeyring, loadOrCreateCodecKey } from './codec-key';
import {
  createEncryptionCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  REFUSED_PLAINTEXT,
  REFUSED_UNDECODABLE,
} from './encryption-codec';
import { TEST_ONLY_CODEC_KEY } from '../test/support/codec-test-key';

const secretPayload = (): Payload =>
  defaultPayloadConverter.toPayload({ shareUrl: 'https://share.example.invalid/s/abc#token', email: 'a@example.com' });

describe('createEncryptionCodec', () => {
  const sut = createEncryptionCodec(TEST_ONLY_CODEC_KEY);

  it('round-trips a payload and hides its content', async () => {
    const [encoded] = await sut.encode([secretPayload()]);
    expect(Buffer.from(encoded.metadata!.encoding).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded.metadata![KEY_ID_METADATA]).toString()).toBe(TEST_ONLY_CODEC_KEY.id);
    expect(Buffer.from(encoded.data!).toString('latin1')).not.toContain('share.example');
    expect(Buffer.from(encoded.data!).toString('latin1')).not.toContain('a@example.com');
    const [decoded] = await sut.decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual({
      shareUrl: 'https://share.example.invalid/s/abc#token',
      email: 'a@example.com',
    });
  });

  it('uses a fresh iv for every payload', async () => {
    const [a, b] = await sut.encode([secretPayload(), secretPayload()]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('detects a tampered payload', async () => {
    const [encoded] = await sut.encode([secretPayload()]);
    const data = Buffer.from(encoded.data!);
    data[20] ^= 0x01;
    await expect(sut.decode([{ ...encoded, data }])).rejects.toThrow(/failed authentication/);
  });

  it('refuses a payload made with an unknown key id', async () => {
    const [encoded] = await sut.encode([secretPayload()]);
    const relabelled = { ...encoded, metadata: { ...encoded.metadata, [KEY_ID_METADATA]: Buffer.from('other-key') } };
    await expect(sut.decode([relabelled])).rejects.toThrow(/unknown codec key id "other-key"/);
  });

  it('refuses a payload made with another key of the same id', async () => {
    const other = createEncryptionCodec({ id: TEST_ONLY_CODEC_KEY.id, key: Buffer.alloc(32, 7) });
    const [encoded] = await other.encode([secretPayload()]);
    await expect(sut.decode([encoded])).rejects.toThrow(/failed authentication/);
  });

  it('passes unencrypted payloads through on decode', async () => {
    const plain = defaultPayloadConverter.toPayload('hello');
    const [decoded] = await sut.decode([plain]);
    expect(decoded).toBe(plain);
  });
});

describe('createEncryptionCodec with a keyring', () => {
  const keyA = { id: 'key-a', key: Buffer.alloc(32, 1) };
  const keyB = { id: 'key-b', key: Buffer.alloc(32, 2) };
  const sut = createEncryptionCodec(codecKeyring(keyB, [keyA]));

  it('encodes with the current key and decodes payloads made under a decode-only key', async () => {
    const [underA] = await createEncryptionCodec(keyA).encode([secretPayload()]);
    const [underB] = await sut.encode([secretPayload()]);
    expect(Buffer.from(underB.metadata![KEY_ID_METADATA]).toString()).toBe('key-b');
    const decoded = await sut.decode([underA, underB]);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([
      expect.objectContaining({ email: 'a@example.com' }),
      expect.objectContaining({ email: 'a@example.com' }),
    ]);
  });

  it('a process that only knows the old key cannot read what the new one encoded', async () => {
    const [underB] = await sut.encode([secretPayload()]);
    await expect(createEncryptionCodec(keyA).decode([underB])).rejects.toThrow(/unknown codec key id "key-b"/);
  });

  it('refuses two keys under one id', () => {
    expect(() => codecKeyring(keyB, [{ id: 'key-b', key: Buffer.alloc(32, 3) }])).toThrow(/configured twice/);
  });
});

describe('createEncryptionCodec refusing plaintext (the worker)', () => {
  const refused: string[] = [];
  const sut = createEncryptionCodec(TEST_ONLY_CODEC_KEY, {
    plaintext: 'refuse',
    onRefused: (reason) => refused.push(reason),
  });
  beforeEach(() => (refused.length = 0));

  it('decodes a plaintext payload into the refusal marker instead of throwing, which would freeze the workflow', async () => {
    const plain = defaultPayloadConverter.toPayload({ actor: { id: 'mallory' }, comment: 'lgtm' });
    const [decoded] = await sut.decode([plain]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(REFUSED_PLAINTEXT);
    expect(refused).toEqual(['plaintext-payload']);
  });

  it('refuses a payload without metadata, and a null payload sent in plaintext', async () => {
    const decoded = await sut.decode([{ data: Buffer.from('"x"') }, defaultPayloadConverter.toPayload(undefined)]);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([
      REFUSED_PLAINTEXT,
      REFUSED_PLAINTEXT,
    ]);
  });

  it('decodes a tampered payload into a marker too', async () => {
    const [encoded] = await sut.encode([secretPayload()]);
    const data = Buffer.from(encoded.data!);
    data[20] ^= 0x01;
    const [decoded] = await sut.decode([{ ...encoded, data }]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(REFUSED_UNDECODABLE);
  });

  it('still decodes encrypted payloads, and still throws for an unknown key id (a missing decode-only key)', async () => {
    const [encoded] = await sut.encode([secretPayload()]);
    const [decoded] = await sut.decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(expect.objectContaining({ email: 'a@example.com' }));
    const relabelled = { ...encoded, metadata: { ...encoded.metadata, [KEY_ID_METADATA]: Buffer.from('retired') } };
    await expect(sut.decode([relabelled])).rejects.toThrow(/unknown codec key id "retired"/);
    expect(refused).toEqual([]);
  });
});

describe('loadOrCreateCodecKey', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-codec-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('creates a 32-byte key file with mode 0600 on first use and reads the same key afterwards', async () => {
    const file = path.join(dir, 'keys', 'payload.key');
    const first = await loadOrCreateCodecKey(file, 'k1');
    expect(first.key).toHaveLength(32);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateCodecKey(file, 'k1');
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('two concurrent first uses agree on one key', async () => {
    const file = path.join(dir, 'payload.key');
    const [a, b] = await Promise.all([loadOrCreateCodecKey(file, 'k1'), loadOrCreateCodecKey(file, 'k1')]);
    expect(a.key.equals(b.key)).toBe(true);
  });

  it('rejects a key file of the wrong length', async () => {
    const file = path.join(dir, 'short.key');
    await fs.writeFile(file, Buffer.alloc(16).toString('base64'));
    await expect(loadOrCreateCodecKey(file, 'k1')).rejects.toThrow(/32 bytes/);
  });
});

describe('loadCodecKeyring', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-codec-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('loads the current key (made on first use) and the decode-only keys', async () => {
    const old = await loadOrCreateCodecKey(path.join(dir, 'old.key'), 'old');
    const sut = await loadCodecKeyring({
      keyFile: path.join(dir, 'new.key'),
      keyId: 'new',
      decodeKeys: [{ id: 'old', file: path.join(dir, 'old.key') }],
    });
    expect(sut.current.id).toBe('new');
    expect(sut.decodeOnly).toEqual([old]);
  });

  it('never creates a decode-only key: a missing one is an error', async () => {
    const missing = path.join(dir, 'missing.key');
    await expect(
      loadCodecKeyring({
        keyFile: path.join(dir, 'new.key'),
        keyId: 'new',
        decodeKeys: [{ id: 'old', file: missing }],
      }),
    ).rejects.toThrow(/ENOENT/);
  });
});
