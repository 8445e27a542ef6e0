import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { loadOrCreateLocalSigningKey, mintLocalToken } from '../../apps/api/identity/local-signing-key';
import { loadConfig, repoRoot } from '../../config/config';
import { chooseServerPorts } from '../../devstack/ports';
import { launchChromium } from '../support/chromium';
import { loadDevelopmentSettings } from '../../config/development';

/**
 * `npm start` end to end, as a person uses it: the compiled dev runner brings up the Temporal dev
 * server (SQLite file, Web UI), the worker and the API; a request made through the API is found in
 * the Temporal UI by its search attributes and its input is decoded there through the API's codec
 * endpoint; Ctrl-C stops everything, and a new start still has the request.
 */
const runner = path.join(repoRoot(), 'dist', 'apps', 'dev', 'main.js');

interface Stack {
  process: ChildProcess;
  output: string[];
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-dev-stack-'));
let env: NodeJS.ProcessEnv;
let apiUrl: string;
let uiUrl: string;

async function startStack(): Promise<Stack> {
  if (!fs.existsSync(runner)) throw new Error(`${runner} is missing: run \`npm run build\` (npm test does)`);
  // Its own process group, so that stopping it is Ctrl-C in a terminal: SIGINT to every process.
  const child = spawn(process.execPath, [runner], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 120 s:\n${output.join('')}`)), 120_000);
    const watch = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes('press Ctrl-C to stop everything')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.once('exit', (code) => reject(new Error(`dev runner exited (${code}) before ready:\n${output.join('')}`)));
  });
  await ready;
  return { process: child, output };
}

async function pressCtrlC(stack: Stack): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => stack.process.once('exit', (code) => resolve(code)));
  process.kill(-stack.process.pid!, 'SIGINT');
  return exited;
}

async function token(claims: { sub: string; email: string; groups: string[]; roles?: ('auditor' | 'admin')[] }) {
  const config = loadConfig(env);
  if (config.auth.mode !== 'local') throw new Error('the dev stack runs in local auth mode');
  const key = await loadOrCreateLocalSigningKey(config.auth.signingKeyFile);
  return mintLocalToken(key, config.auth.issuer, config.auth.audience, { roles: [], ...claims }, 600);
}

describe('npm start (the dev stack) and the Temporal UI', () => {
  let stack: Stack;
  let browser: Browser;
  let requestId: string;

  beforeAll(async () => {
    const [apiPort, temporalPort, uiPort, metricsPort] = await chooseServerPorts(4);
    apiUrl = `http://127.0.0.1:${apiPort}`;
    uiUrl = `http://127.0.0.1:${uiPort}`;
    env = {
      ...loadDevelopmentSettings().childEnv,
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_API_PORT: String(apiPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      LATCHKEY_TEMPORAL_UI_PORT: String(uiPort),
      LATCHKEY_WORKER_METRICS_PORT: String(metricsPort),
    };
    stack = await startStack();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (stack?.process.exitCode === null) await pressCtrlC(stack);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('brings up the API, the worker and the Temporal dev server with its Web UI', async () => {
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${apiUrl}/readyz`)).status).toBe(200);
    expect((await fetch(uiUrl)).status).toBe(200);
    expect(fs.existsSync(path.join(dataDir, 'temporal.db'))).toBe(true);
  });

  it('starts an access request through the API', async () => {
    const alice = await token({ sub: 'alice', email: 'alice@example.com', groups: ['engineering'] });
    const response = await fetch(`${apiUrl}/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceId: 'prod-db',
        duration: 'PT2H',
        justification: 'Investigating INC-4211 slow queries',
      }),
    });
    expect(response.status).toBe(201);
    requestId = ((await response.json()) as { requestId: string }).requestId;
  });

  it('shows the request in the Temporal UI, found by its search attributes, with its input decoded through the codec endpoint', async () => {
    const auditor = await token({ sub: 'audrey', email: 'audrey@example.com', groups: [], roles: ['auditor'] });
    // The UI passes the signed-in user's token to the codec endpoint; here the browser carries it.
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${auditor}` } });
    const page = await context.newPage();
    const decodes: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/codec/decode')) decodes.push(response.status());
    });
    const query = `LatchkeyRequester="alice" AND LatchkeyResource="prod-db" AND LatchkeyStatus="PENDING_APPROVAL"`;
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    const row = page.locator(`a[href*="${requestId}"]`).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    await page.getByText('"justification": "Investigating INC-4211 slow queries"').first().waitFor({ timeout: 30_000 });
    const body = await page.locator('body').innerText();
    expect(body).toContain(`"requestId": "${requestId}"`);
    expect(body).toContain('"flowName": "prod-access"');
    expect(decodes.length).toBeGreaterThan(0);
    expect(decodes.every((status) => status === 200)).toBe(true);
    await context.close();
  });

  it('shows only ciphertext to a browser without a token: the codec endpoint refuses it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const decodes: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/codec/decode')) decodes.push(response.status());
    });
    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(`AccessRequest:${requestId}`)}`);
    await page
      .getByText('binary/encrypted')
      .or(page.getByText('YmluYXJ5L2VuY3J5cHRlZA=='))
      .first()
      .waitFor({ timeout: 30_000 });
    expect(await page.locator('body').innerText()).not.toContain('Investigating INC-4211');
    expect(decodes).toContain(401);
    await context.close();
  });

  it('stops cleanly on Ctrl-C and keeps the request across a new start, whose worker runs a prebuilt bundle', async () => {
    expect(await pressCtrlC(stack)).toBe(0);
    // As the production image does: bundle once, and the restarted worker answers from that bundle.
    const bundle = path.join(dataDir, 'workflow-bundle.js');
    execFileSync(process.execPath, [path.join(repoRoot(), 'dist', 'apps', 'worker', 'bundle.js'), bundle], {
      stdio: 'ignore',
    });
    env = { ...env, LATCHKEY_WORKFLOW_BUNDLE: bundle };
    stack = await startStack();
    const alice = await token({ sub: 'alice', email: 'alice@example.com', groups: ['engineering'] });
    const response = await fetch(`${apiUrl}/v1/requests/${requestId}`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ requestId, status: 'PENDING_APPROVAL' });
  }, 180_000);
});
