import * as crypto from 'node:crypto';
import { derivePageTokenKey, PageTokens } from './page-token';

describe(PageTokens.name, () => {
  const sut = new PageTokens(crypto.randomBytes(32));
  const raw = Buffer.from('{"StartTime":"2026-11-27T20:49:02Z","RunID":"abc"}');
  const query = "WorkflowType = 'accessRequestWorkflow' AND LatchkeyRequester = 'alice'";

  it('opens a token it sealed for the same query', () => {
    expect(sut.open(query, sut.seal(query, raw))).toEqual(raw);
  });

  it('refuses the token with another query, so it cannot be carried over to other filters', () => {
    expect(sut.open(`${query} AND LatchkeyStatus = 'ACTIVE'`, sut.seal(query, raw))).toBeUndefined();
  });

  it('refuses forged, altered and malformed tokens', () => {
    const token = sut.seal(query, raw);
    const [body, mac] = token.split('.');
    expect(sut.open(query, `${Buffer.from('{"RunID":"x"}').toString('base64url')}.${mac}`)).toBeUndefined();
    expect(sut.open(query, `${body}.${'A'.repeat(mac.length)}`)).toBeUndefined();
    expect(sut.open(query, body)).toBeUndefined();
    expect(sut.open(query, `${token}.more`)).toBeUndefined();
    expect(sut.open(query, 'AAAA')).toBeUndefined();
  });

  it('refuses tokens sealed with another key, and agrees across instances sharing the secret', () => {
    const secret = crypto.randomBytes(32);
    const a = new PageTokens(derivePageTokenKey(secret));
    const b = new PageTokens(derivePageTokenKey(secret));
    expect(b.open(query, a.seal(query, raw))).toEqual(raw);
    expect(sut.open(query, a.seal(query, raw))).toBeUndefined();
  });
});
