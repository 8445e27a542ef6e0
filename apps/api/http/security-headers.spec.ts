import { securityHeaders } from './security-headers';

describe(securityHeaders.name, () => {
  it('allows nothing to load or frame a JSON answer', () => {
    const sut = securityHeaders('http://localhost:3000');
    expect(sut.contentSecurityPolicy).toEqual({
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
    });
    expect(sut.xFrameOptions).toEqual({ action: 'deny' });
  });

  it('sends HSTS only where the API is served over https', () => {
    expect(securityHeaders('http://localhost:3000').strictTransportSecurity).toBe(false);
    expect(securityHeaders('https://latchkey.example.com').strictTransportSecurity).toEqual({ maxAge: 31_536_000 });
  });
});
