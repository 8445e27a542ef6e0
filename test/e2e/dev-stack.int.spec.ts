import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { repoRoot } from '../../config/config';
import type { CaughtMail } from '../../devstack/mail-catcher';
import { launchChromium } from '../support/chromium';
import { DevStack } from '../support/dev-stack';

/**
 * `npm start` end to end, as a person uses it: the compiled dev runner brings up the Temporal dev
 * server (SQLite file, Web UI), the worker and the API; a request made through the API is found in
 * the Temporal UI by its search attributes and its input is decoded there through the API's codec
 * endpoint; the approvers are mailed through the mail catcher, and the links in the mail work; Ctrl-C stops
 * everything, and a new start still has the request.
 */
const stack = new DevStack();
let apiUrl: string;
let uiUrl: string;

/** A call to the codec endpoint's decode (newer UIs add a query, e.g. `?preserveStorageRefs=true`). */
const isDecode = (url: string) => new URL(url).pathname === '/codec/decode';

const person = (sub: string, groups: string[]) => stack.token({ sub, email: `${sub}@example.com`, groups });

async function requestProdDb(justification: string): Promise<string> {
  const response = await fetch(`${apiUrl}/v1/requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await person('alice', ['engineering'])}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resourceId: 'prod-db', duration: 'PT2H', justification }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { requestId: string }).requestId;
}

/** The mails the catcher holds about one request (the worker names it in a header of each). */
async function mailsAbout(requestId: string): Promise<CaughtMail[]> {
  const response = await fetch(`${stack.mailUrl}/api/messages`);
  expect(response.status).toBe(200);
  return ((await response.json()) as CaughtMail[]).filter((mail) => mail.headers['x-latchkey-request'] === requestId);
}

/**
 * Waits for the catcher to hold, about the request, one mail of the subject to each address; on a timeout, says
 * what the worker logged about its notifications.
 */
async function mailed(requestId: string, subject: string, addresses: string[], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = (await mailsAbout(requestId)).filter((mail) => mail.subject === subject);
    if (addresses.every((address) => mails.some((mail) => mail.envelope.rcptTo.includes(address)))) return mails;
    if (Date.now() > deadline) {
      const notifications = stack.output
        .join('')
        .split('\n')
        .filter((line) => /notification|mail catcher/.test(line));
      throw new Error(
        `no "${subject}" to ${addresses.join(', ')} after ${timeoutMs} ms; caught: ` +
          `${JSON.stringify(mails.map((mail) => mail.envelope.rcptTo))}; the stack logged:\n${notifications.join('\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('npm start (the dev stack) and the Temporal UI', () => {
  let browser: Browser;
  let requestId: string;

  beforeAll(async () => {
    await stack.configure();
    ({ apiUrl, uiUrl } = stack);
    await stack.start();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack.dispose();
  }, 60_000);

  it('brings up the API, the worker and the Temporal dev server with its Web UI', async () => {
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${apiUrl}/readyz`)).status).toBe(200);
    expect((await fetch(uiUrl)).status).toBe(200);
    expect(fs.existsSync(path.join(stack.dataDir, 'temporal.db'))).toBe(true);
  });

  it('starts an access request through the API', async () => {
    requestId = await requestProdDb('Investigating INC-4211 slow queries');
  });

  it('mails the approvers through the mail catcher, whose links show the request and approve it', async () => {
    const id = await requestProdDb('Checking the INC-4212 replication lag');
    const asked = await mailed(id, '[latchkey] Approval asked: prod-db', ['bob@example.com', 'carol@example.com']);
    // The approvers, once each; not alice, who asked.
    expect(asked.flatMap((mail) => mail.envelope.rcptTo).sort()).toEqual(['bob@example.com', 'carol@example.com']);
    const toBob = asked.find((mail) => mail.to.includes('bob@example.com'))!;
    expect(toBob.text).toContain('alice asks for prod-db (demo) for 2 h.');

    const bob = await person('bob', ['security']);
    const link = /^The request: (\S+)$/m.exec(toBob.text ?? '')?.[1];
    expect(link).toMatch(new RegExp(`/v1/requests/${id}$`));
    const followed = await fetch(link!, { headers: { authorization: `Bearer ${bob}` } });
    expect(followed.status).toBe(200);
    expect(await followed.json()).toMatchObject({ requestId: id, status: 'PENDING_APPROVAL' });

    const approveLink = /^Approve \(latchkey approve \S+\): POST (\S+)$/m.exec(toBob.text ?? '')?.[1];
    expect(approveLink).toBe(`${link}/approve`);
    const approved = await fetch(approveLink!, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({
      requestId: id,
      status: 'ACTIVE',
      approvals: [{ approverId: 'bob' }],
    });

    await mailed(id, '[latchkey] Approved: prod-db', ['alice@example.com']);
    await mailed(id, '[latchkey] Access granted: prod-db', ['alice@example.com']);

    // A newcomer's view: the catcher's web page lists them.
    const page = await fetch(stack.mailUrl);
    expect(page.status).toBe(200);
    const listed = await page.text();
    for (const subject of ['Approval asked', 'Approved', 'Access granted'])
      expect(listed).toContain(`[latchkey] ${subject}: prod-db`);
  });

  it('shows the request in the Temporal UI, found by its search attributes, with its input decoded through the codec endpoint', async () => {
    const auditor = await stack.token({ sub: 'audrey', email: 'audrey@example.com', groups: [], roles: ['auditor'] });
    // The UI passes the signed-in user's token to the codec endpoint; here the browser carries it.
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${auditor}` } });
    const page = await context.newPage();
    const decodes: number[] = [];
    page.on('response', (response) => {
      if (isDecode(response.url())) decodes.push(response.status());
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
      if (isDecode(response.url())) decodes.push(response.status());
    });
    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(`AccessRequest:${requestId}`)}`);
    // The UI says so (2.54: "Codec Server could not connect") or shows the payloads' encoding; either way, no plaintext.
    await page.waitForFunction(
      () => {
        // Runs in the page (whose CSP forbids evaluating a string); the repository's types have no DOM.
        const text = (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText;
        return /Codec Server could not connect|binary\/encrypted|YmluYXJ5L2VuY3J5cHRlZA==/.test(text);
      },
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.locator('body').innerText()).not.toContain('Investigating INC-4211');
    expect(decodes).toContain(401);
    await context.close();
  });

  it('stops cleanly on Ctrl-C and keeps the request across a new start, whose worker runs a prebuilt bundle', async () => {
    expect(await stack.pressCtrlC()).toBe(0);
    // As the production image does: bundle once, and the restarted worker answers from that bundle.
    const bundle = path.join(stack.dataDir, 'workflow-bundle.js');
    execFileSync(process.execPath, [path.join(repoRoot(), 'dist', 'apps', 'worker', 'bundle.js'), bundle], {
      stdio: 'ignore',
    });
    stack.env = { ...stack.env, LATCHKEY_WORKFLOW_BUNDLE: bundle };
    await stack.start();
    const response = await fetch(`${apiUrl}/v1/requests/${requestId}`, {
      headers: { authorization: `Bearer ${await person('alice', ['engineering'])}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ requestId, status: 'PENDING_APPROVAL' });
  }, 180_000);
});
