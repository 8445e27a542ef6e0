import { derivePageTokenKey } from '../requests/page-token';
import { CodecSessions, deriveCodecSessionKey, payloadsFromJson, payloadsToJson } from './codec-routes';

describe('codec endpoint payload JSON', () => {
  it('round-trips payloads between protobuf JSON and bytes', () => {
    const json = {
      payloads: [
        {
          metadata: { encoding: Buffer.from('json/plain').toString('base64') },
          data: Buffer.from('"hi"').toString('base64'),
        },
      ],
    };
    const sut = payloadsFromJson(json);
    expect(Buffer.from(sut[0].data ?? []).toString()).toBe('"hi"');
    expect(payloadsToJson(sut)).toEqual(json);
  });

  it.each([
    ['no payloads list', {}],
    ['a string for the list', { payloads: 'x' }],
    ['a non-object entry', { payloads: [1] }],
    ['data that is not base64', { payloads: [{ data: 'not base64!' }] }],
    ['metadata values that are not base64', { payloads: [{ metadata: { encoding: '@@' }, data: '' }] }],
    ['too many payloads', { payloads: Array.from({ length: 2001 }, () => ({ data: '' })) }],
  ])('refuses %s', (_what, body) => {
    expect(() => payloadsFromJson(body)).toThrow('The body must be');
  });
});

describe(CodecSessions.name, () => {
  const key = Buffer.alloc(32, 7);
  const now = 1_800_000_000_000;
  const sut = new CodecSessions(key, () => now);
  const reader = { id: 'audrey', roles: ['auditor' as const] };

  it('seals who may read, for an hour at most and never past the token', () => {
    const session = sut.seal(reader, now / 1000 + 8 * 3600);
    expect(session.maxAge).toBe(3600);
    expect(sut.open(session.value)).toEqual(reader);
    expect(sut.seal(reader, now / 1000 + 60).maxAge).toBe(60);
  });

  it('holds no token, and refuses a value altered, sealed with another key, or expired', () => {
    const { value } = sut.seal(reader, now / 1000 + 3600);
    expect(value.split('.')).toHaveLength(2);
    const [body, mac] = value.split('.');
    const admin = Buffer.from(JSON.stringify({ sub: 'audrey', roles: ['admin'], exp: now / 1000 + 3600 })).toString(
      'base64url',
    );
    expect(sut.open(`${admin}.${mac}`)).toBeUndefined();
    expect(sut.open(`${body}.${mac.slice(1)}`)).toBeUndefined();
    expect(new CodecSessions(Buffer.alloc(32, 8), () => now).open(value)).toBeUndefined();
    expect(new CodecSessions(key, () => now + 3601_000).open(value)).toBeUndefined();
    expect(sut.open(undefined)).toBeUndefined();
    expect(sut.open('a.b.c')).toBeUndefined();
  });

  it('is opened by every API instance that derives the key from the same codec key', () => {
    const codecKey = Buffer.alloc(32, 1);
    const { value } = new CodecSessions(deriveCodecSessionKey(codecKey), () => now).seal(reader, now / 1000 + 60);
    expect(new CodecSessions(deriveCodecSessionKey(codecKey), () => now).open(value)).toEqual(reader);
    expect(deriveCodecSessionKey(codecKey)).not.toEqual(derivePageTokenKey(codecKey));
  });
});
