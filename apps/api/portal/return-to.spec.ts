import { safeReturnTo } from './return-to';

describe(safeReturnTo.name, () => {
  it.each(['/portal/', '/portal/inbox', '/portal/requests/req_0123456789abcdef', '/portal/audit?status=ACTIVE&page=2'])(
    'keeps a path of the portal: %s',
    (path) => {
      expect(safeReturnTo(path)).toBe(path);
    },
  );

  it.each([
    undefined,
    42,
    ['/portal/inbox'],
    '',
    '/',
    '/v1/me',
    '/portalx/inbox',
    'https://evil.test/portal/',
    '//evil.test/portal/',
    '/\\evil.test/portal/',
    '/portal/../v1/me',
    '/portal/./inbox',
    '/portal/%2e%2e/v1/me',
    '/portal/%2F%2Fevil.test',
    '/portal/inbox#x',
    '/portal/in box',
    '/portal/\tinbox',
    'javascript:alert(1)',
    `/portal/${'a'.repeat(600)}`,
  ])('replaces %p with the portal home', (raw) => {
    expect(safeReturnTo(raw)).toBe('/portal/');
  });
});
