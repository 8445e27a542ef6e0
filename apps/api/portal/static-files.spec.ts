import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { securityHeaders } from '../http/security-headers';
import { PORTAL_CSP, portalFilePath, registerPortalFiles } from './static-files';

/** A raw request, so the path reaches the server exactly as written (fetch would resolve `..` first). */
function rawGet(app: FastifyInstance, rawPath: string): Promise<{ status: number; body: string }> {
  const { port } = app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: rawPath }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Over real HTTP (Fastify's inject needs a package that Jest's CommonJS runtime cannot load). */
async function get(app: FastifyInstance, url: string) {
  const { port } = app.server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}${url}`, { redirect: 'manual' });
  return { statusCode: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

describe(registerPortalFiles.name, () => {
  let dir: string;
  let root: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-portal-files-'));
    root = path.join(dir, 'dist', 'portal');
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>latchkey</title>');
    fs.writeFileSync(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    fs.writeFileSync(path.join(root, 'favicon.svg'), '<svg/>');
    fs.writeFileSync(path.join(dir, 'dist', 'secret.json'), '{"secret":true}');
    app = Fastify();
    // The API's own global policy: the portal's routes must replace it with theirs.
    await app.register(helmet, securityHeaders('http://localhost:3000'));
    registerPortalFiles(app, root);
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends / to the portal', async () => {
    const response = await get(app, '/');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/portal/');
    expect((await get(app, '/portal')).headers.location).toBe('/portal/');
  });

  it.each(['/portal/', '/portal/inbox', '/portal/requests/req_0123456789abcdef', '/portal/audit?status=ACTIVE'])(
    'answers the app’s route %s with index.html, uncached, under the portal’s CSP',
    async (url) => {
      const response = await get(app, url);
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('<title>latchkey</title>');
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['content-security-policy']).toBe(PORTAL_CSP);
      expect(response.headers['cache-control']).toBe('no-store');
    },
  );

  it('serves hashed assets as immutable, and other files uncached', async () => {
    const asset = await get(app, '/portal/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log(1)');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await get(app, '/portal/favicon.svg');
    expect(icon.headers['cache-control']).toBe('no-store');
    expect(icon.headers['content-security-policy']).toBe(PORTAL_CSP);
  });

  it('answers a missing hashed asset 404 rather than with the page', async () => {
    expect((await get(app, '/portal/assets/index-old.js')).statusCode).toBe(404);
  });

  it.each([
    '/portal/../secret.json',
    '/portal/%2e%2e/secret.json',
    '/portal/..%2fsecret.json',
    '/portal/assets/..%2f..%2fsecret.json',
    '/portal/..%5csecret.json',
    '/portal/%00index.html',
    '/portal/../../package.json',
  ])('refuses %s and never serves a file outside the build', async (rawPath) => {
    const response = await rawGet(app, rawPath);
    expect(response.body).not.toContain('secret');
    expect(response.body).not.toContain('"name"');
    expect([400, 404]).toContain(response.status);
  });

  it('says plainly that the portal is not built when its files are missing, and keeps running', async () => {
    const bare = Fastify();
    registerPortalFiles(bare, path.join(dir, 'nothing-here'));
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const response = await get(bare, '/portal/inbox');
    expect(response.statusCode).toBe(503);
    expect(response.body).toBe('portal not built: run npm run build\n');
    await bare.close();
  });
});

describe(portalFilePath.name, () => {
  it('maps portal URLs to paths inside the build, and nothing else', () => {
    expect(portalFilePath('/portal/')).toBe('');
    expect(portalFilePath('/portal/assets/a.js?v=1')).toBe('assets/a.js');
    expect(portalFilePath('/portal/a%20b.txt')).toBe('a b.txt');
    for (const url of [
      '/portal/../x',
      '/portal/a/./b',
      '/portal/%2e%2e/x',
      '/portal/%E0%A4%A',
      '/portal//etc/passwd',
      '/x',
    ]) {
      expect(portalFilePath(url)).toBeUndefined();
    }
  });
});
