import * as crypto from 'node:crypto';
import { CookieSealer, derivePortalCookieKey, readCookie, setCookie } from './sealed-cookie';

describe(CookieSealer.name, () => {
  const key = crypto.randomBytes(32);
  let now = 1_800_000_000_000;
  const sut = new CookieSealer(key, () => now);
  const inAnHour = now / 1000 + 3600;

  it('opens what it sealed, and nothing in the value is readable without the key', () => {
    const value = sut.seal('portal-session', { token: 'h.secret-token.s', csrfToken: 'c' }, inAnHour);
    expect(sut.open('portal-session', value)).toEqual({ token: 'h.secret-token.s', csrfToken: 'c' });
    expect(value).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(value.slice(3), 'base64url').toString('latin1')).not.toContain('secret-token');
    // A fresh IV each time: the same session never seals to the same value.
    expect(sut.seal('portal-session', { a: 1 }, inAnHour)).not.toBe(sut.seal('portal-session', { a: 1 }, inAnHour));
  });

  it('opens nothing that was changed, by one bit anywhere', () => {
    const value = sut.seal('portal-session', { token: 't' }, inAnHour);
    const bytes = Buffer.from(value.slice(3), 'base64url');
    for (let at = 0; at < bytes.length; at += 1) {
      const tampered = Buffer.from(bytes);
      tampered[at] ^= 0x01;
      expect(sut.open('portal-session', `v1.${tampered.toString('base64url')}`)).toBeUndefined();
    }
    expect(sut.open('portal-session', `${value}A`)).toBeUndefined();
    expect(sut.open('portal-session', value.slice(0, 20))).toBeUndefined();
  });

  it('opens nothing once expired', () => {
    const value = sut.seal('portal-session', { token: 't' }, now / 1000 + 60);
    now += 59_000;
    expect(sut.open('portal-session', value)).toEqual({ token: 't' });
    now += 2_000;
    expect(sut.open('portal-session', value)).toBeUndefined();
  });

  it('opens nothing sealed with another key, or for another purpose', () => {
    const value = sut.seal('portal-oidc', { state: 's' }, now / 1000 + 600);
    expect(new CookieSealer(crypto.randomBytes(32), () => now).open('portal-oidc', value)).toBeUndefined();
    expect(sut.open('portal-session', value)).toBeUndefined();
    expect(sut.open('portal-oidc', value)).toEqual({ state: 's' });
  });

  it.each([undefined, '', 'v1.', 'v2.abc', 'garbage', 'v1.!!!!'])('opens nothing from %p', (value) => {
    expect(sut.open('portal-session', value)).toBeUndefined();
  });

  it('shares its key between API instances that derive it from the same secret, and no other', () => {
    const secret = crypto.randomBytes(32);
    const one = new CookieSealer(derivePortalCookieKey(secret), () => now);
    const other = new CookieSealer(derivePortalCookieKey(Buffer.from(secret)), () => now);
    expect(other.open('portal-session', one.seal('portal-session', 'x', now / 1000 + 60))).toBe('x');
    expect(derivePortalCookieKey(secret)).not.toEqual(secret);
  });
});

describe(readCookie.name, () => {
  it('finds a cookie by its exact name', () => {
    const header = 'other=1; latchkey_session=v1.abc=; latchkey_session_x=2';
    expect(readCookie(header, 'latchkey_session')).toBe('v1.abc=');
    expect(readCookie(header, 'latchkey')).toBeUndefined();
    expect(readCookie(undefined, 'latchkey_session')).toBeUndefined();
  });
});

describe(setCookie.name, () => {
  it('is always HttpOnly, with the given path, SameSite and lifetime, and Secure when asked', () => {
    expect(setCookie('n', 'v', { path: '/', sameSite: 'Strict', secure: false, maxAge: 60.7 })).toBe(
      'n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict',
    );
    expect(setCookie('n', '', { path: '/portal/auth', sameSite: 'Lax', secure: true, maxAge: -5 })).toBe(
      'n=; Path=/portal/auth; Max-Age=0; HttpOnly; SameSite=Lax; Secure',
    );
  });
});
