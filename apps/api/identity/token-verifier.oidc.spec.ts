import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type KeyLike, SignJWT } from 'jose';
import { TokenRejected, TokenVerifier } from './token-verifier';

/** An identity provider's JWKS endpoint, served in-process, and tokens signed with its key. */
describe(`${TokenVerifier.name} in OIDC mode`, () => {
  const issuer = 'https://idp.example.com';
  const audience = 'latchkey-api';
  let server: http.Server;
  let privateKey: KeyLike;
  let sut: TokenVerifier;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
    server = http.createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    sut = await TokenVerifier.fromConfig({
      mode: 'oidc',
      issuer,
      audience,
      jwksUrl: `http://127.0.0.1:${port}/jwks`,
      maxTokenAgeSeconds: 3600,
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function sign(claims: Record<string, unknown>, options: { aud?: string; iss?: string } = {}) {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1' })
      .setSubject('00u1abcd')
      .setIssuer(options.iss ?? issuer)
      .setAudience(options.aud ?? audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  }

  it("accepts the provider's token and reads identity from its claims", async () => {
    const token = await sign({ email: 'alice@example.com', email_verified: true, groups: ['engineering'] });
    await expect(sut.verify(token)).resolves.toEqual({
      identity: { id: '00u1abcd', email: 'alice@example.com', groups: ['engineering'] },
      roles: [],
      emailVerified: true,
    });
  });

  it('does not count an e-mail address as verified when the provider does not say so', async () => {
    const caller = await sut.verify(await sign({ email: 'alice@example.com' }));
    expect(caller.emailVerified).toBeUndefined();
  });

  it('refuses a token for another audience or from another issuer', async () => {
    await expect(sut.verify(await sign({ email: 'alice@example.com' }, { aud: 'other' }))).rejects.toBeInstanceOf(
      TokenRejected,
    );
    await expect(
      sut.verify(await sign({ email: 'alice@example.com' }, { iss: 'https://evil.example.com' })),
    ).rejects.toBeInstanceOf(TokenRejected);
  });

  it('refuses an e-mail address the provider has not verified', async () => {
    await expect(sut.verify(await sign({ email: 'alice@example.com', email_verified: false }))).rejects.toThrow(
      'e-mail not verified',
    );
  });

  it('refuses a token signed with a key the provider does not publish', async () => {
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT({ email: 'alice@example.com' })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1' })
      .setSubject('00u1abcd')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(other.privateKey);
    await expect(sut.verify(forged)).rejects.toBeInstanceOf(TokenRejected);
  });
});
