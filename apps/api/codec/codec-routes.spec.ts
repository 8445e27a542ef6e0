import { payloadsFromJson, payloadsToJson } from './codec-routes';

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
