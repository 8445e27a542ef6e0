import { defineConfig } from 'vite';

/**
 * The portal: a small single-page app (Preact) that the API serves under /portal/ (apps/api/portal).
 * Built into dist/portal with hashed file names; no CDN, no inline script or style, so it runs under the
 * API's strict Content-Security-Policy.
 */
export default defineConfig({
  base: '/portal/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/portal',
    emptyOutDir: true,
    // A file of its own keeps the policy at script-src 'self': Vite would otherwise inline a module preload helper.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  logLevel: 'warn',
});
