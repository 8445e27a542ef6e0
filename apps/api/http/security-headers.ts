import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * Helmet's headers, set on every answer, for an API that serves JSON, one docs page and the codec's
 * small form: no content may load (`default-src 'none'`), nothing may frame it, no referrer leaves it.
 * A route that needs a looser policy sets its own header, which wins: the docs page its
 * Content-Security-Policy (docs/docs.controller.ts), the codec its CORS headers.
 */
export function securityHeaders(publicUrl: string): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        // The codec's session page posts its form to itself.
        formAction: ["'self'"],
      },
    },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    // Only where the API is served over https; no includeSubDomains, which would bind other hosts.
    strictTransportSecurity: new URL(publicUrl).protocol === 'https:' ? { maxAge: 31_536_000 } : false,
  };
}
