import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { repoRoot } from '../../config/config';
import { loadDevelopmentSettings } from '../../config/development';
import { chooseServerPort } from '../../devstack/ports';
import { ApiWorld } from '../support/api-world';
import { launchChromium } from '../support/chromium';
import { API_RESOURCE, PORTAL_CLIENT_ID, TestOpenIdProvider } from '../support/openid-provider';
import { GENERIC } from '../support/token-shapes';

/**
 * The portal in a real browser (Debian's Chromium through playwright), served by a real API over a real
 * worker and Temporal dev server: a whole lifecycle by clicking only, each page checked by axe-core.
 * `LATCHKEY_PORTAL_SCREENSHOTS=docs/portal` keeps a screenshot of each page there (docs/portal.md).
 */

const screenshots =
  loadDevelopmentSettings().portalScreenshots ?? fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-portal-shots-'));
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };
const justification = 'Investigating INC-4211: slow queries on orders';

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown }>;
}

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.x A and AA, and best practice). */
async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  // Written as page source: this file is compiled for Node, without the DOM's types.
  const violations = await page.evaluate<AxeViolation[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations)",
  );
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} at ${JSON.stringify(violation.nodes.map((node) => node.target))}`,
    );
}

/** Checks the page as it stands, and keeps its picture. */
async function checkPage(page: Page, name: string, checked: Map<string, string[]>): Promise<void> {
  await page.waitForLoadState('networkidle');
  checked.set(name, await accessibilityProblems(page));
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

/** Nothing is wider than the screen: no sideways scrolling at a phone's width. */
async function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth + 1');
}

export type SignIn = (page: Page, person: string) => Promise<void>;

/**
 * alice asks for prod-db, bob finds it in his inbox and approves, alice opens her grant and gives it back,
 * ada (an auditor) finds it and reads its timeline: clicks and typing only, no API call from the test.
 */
async function lifecycle(
  browser: Browser,
  baseUrl: string,
  signIn: SignIn,
  prefix: string,
  checked: Map<string, string[]>,
) {
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const personPage = async (viewport = { width: 1280, height: 900 }) => {
    // Axe is injected as a script of its own, which the portal's policy (rightly) refuses.
    const context = await browser.newContext({ viewport, bypassCSP: true, baseURL: baseUrl });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  };
  try {
    const alice = await personPage();
    await signIn(alice, 'alice');
    await alice.getByRole('heading', { name: 'Request access', level: 1 }).waitFor();
    await checkPage(alice, `${prefix}requester-catalog`, checked);

    await alice
      .locator('li.card', { hasText: '(prod-db)' })
      .getByRole('link', { name: /^Request / })
      .click();
    await alice.getByRole('button', { name: 'Send request' }).click();
    await alice.getByText('Say why you need it.').waitFor();
    await alice.getByLabel(/^Why/).fill(justification);
    await checkPage(alice, `${prefix}requester-form`, checked);
    await alice.getByRole('button', { name: 'Send request' }).click();
    await alice.getByText('Waiting for approval').first().waitFor();
    const requestUrl = alice.url();
    expect(requestUrl).toMatch(/\/portal\/requests\/req_/);
    await checkPage(alice, `${prefix}requester-request-pending`, checked);

    const bob = await personPage();
    await signIn(bob, 'bob');
    await bob.getByRole('navigation').getByRole('link', { name: 'Inbox' }).click();
    const card = bob.locator('li.card', { hasText: 'alice asks for prod-db' });
    await card.waitFor();
    await expect(card.innerText()).resolves.toContain(justification);
    await checkPage(bob, `${prefix}approver-inbox`, checked);
    await card.getByLabel('Comment (optional)').fill('OK for the incident window');
    await card.getByRole('button', { name: 'Approve' }).click();
    await bob.getByText('Nothing waits for you.').waitFor();
    const decided = bob.locator('section', { hasText: 'Decided by you' });
    await decided.getByRole('link', { name: 'prod-db for alice' }).waitFor({ timeout: 20_000 });
    await checkPage(bob, `${prefix}approver-decided`, checked);

    // alice's page follows the request live: no reload.
    await alice.getByText('Active', { exact: true }).waitFor({ timeout: 20_000 });
    await alice.getByRole('button', { name: 'Show access' }).click();
    const link = alice.getByRole('link', { name: 'Open the item in 1Password' });
    await link.waitFor();
    expect(await link.getAttribute('href')).toMatch(/^https?:\/\//);
    await checkPage(alice, `${prefix}requester-grant`, checked);

    // prod-db's flow approves extensions again: alice asks for an hour more, bob approves it from his inbox.
    await alice.getByLabel('Extend by').selectOption({ label: '1 h' });
    await alice.getByRole('button', { name: 'Extend' }).click();
    await alice.getByText('Extension asked for: it waits for approval.').waitFor();
    const extension = bob.locator('li.card', { hasText: 'alice asks for prod-db: more time' });
    await extension.waitFor({ timeout: 20_000 });
    await extension.getByRole('button', { name: 'Approve' }).click();
    await bob.getByText('Nothing waits for you.').waitFor();
    await alice.getByText(/^by alice, 1 h more, to /).waitFor({ timeout: 20_000 });
    await alice.getByRole('button', { name: 'Give access back now' }).click();
    await alice.getByRole('button', { name: 'Yes, give access back now' }).click();
    await alice.getByText('Given back or revoked').first().waitFor({ timeout: 20_000 });
    await alice.getByText('alice revoked', { exact: false }).first().waitFor({ timeout: 20_000 });

    await alice.getByRole('navigation').getByRole('link', { name: 'My requests' }).click();
    await alice.getByRole('link', { name: 'prod-db' }).first().waitFor();
    await checkPage(alice, `${prefix}requester-my-requests`, checked);

    const ada = await personPage();
    await signIn(ada, 'ada');
    await ada.getByRole('navigation').getByRole('link', { name: 'Audit' }).click();
    await ada.getByLabel('Person').fill('alice');
    await ada.getByLabel('Status').selectOption('REVOKED');
    await ada.getByRole('button', { name: 'Search' }).click();
    await ada.getByRole('link', { name: 'alice · prod-db' }).first().waitFor();
    await checkPage(ada, `${prefix}auditor-search`, checked);
    await ada.getByRole('link', { name: 'alice · prod-db' }).first().click();
    const timeline = ada.locator('ol.timeline');
    await timeline.getByText('bob approved: OK for the incident window').waitFor();
    await timeline.getByText('bob approved', { exact: true }).waitFor();
    await timeline
      .getByText(/revoked/i)
      .first()
      .waitFor();
    await checkPage(ada, `${prefix}auditor-timeline`, checked);

    // The same pages at a phone's width: usable, nothing off the side.
    const phone = await personPage(PHONE);
    await signIn(phone, 'alice');
    await phone.goto(requestUrl);
    await phone.getByText('Given back or revoked').first().waitFor();
    expect(await overflowsSideways(phone)).toBe(false);
    await checkPage(phone, `${prefix}phone-request`, checked);
    await phone.getByRole('navigation').getByRole('link', { name: 'Request access' }).click();
    await phone.getByRole('heading', { name: 'Request access', level: 1 }).waitFor();
    expect(await overflowsSideways(phone)).toBe(false);
    await checkPage(phone, `${prefix}phone-catalog`, checked);
    expect(pageErrors).toEqual([]);
  } finally {
    for (const context of contexts) await context.close();
  }
}

describe('the portal in a browser', () => {
  let browser: Browser;
  const checked = new Map<string, string[]>();

  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  describe('local mode: the demo people', () => {
    let world: ApiWorld;
    beforeAll(async () => {
      world = await ApiWorld.create('portal-local');
    }, 120_000);
    afterAll(async () => {
      await world?.dispose();
    }, 60_000);

    const signInLocal: SignIn = async (page, person) => {
      await page.goto('/portal/');
      await page.getByRole('button', { name: new RegExp(`\\b${person}\\b`) }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
    };

    it('goes through a whole lifecycle by clicking, every page accessible', async () => {
      await lifecycle(browser, world.config.api.publicUrl, signInLocal, '', checked);
      const page = await browser.newPage({ baseURL: world.config.api.publicUrl, bypassCSP: true });
      await page.goto('/portal/');
      await page.getByRole('heading', { name: 'Sign in to latchkey' }).waitFor();
      await checkPage(page, 'sign-in', checked);
      await page.close();
      const problems = [...checked].filter(([, found]) => found.length > 0);
      expect(problems).toEqual([]);
    }, 240_000);

    it("was typed from the very document the API serves at /openapi.json (the build's dist/openapi.json)", async () => {
      const served = (await (await fetch(`${world.baseUrl}/openapi.json`)).json()) as { servers?: unknown };
      const built = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'dist', 'openapi.json'), 'utf8')) as object;
      // The served one names the server it came from; the built one names none.
      delete served.servers;
      expect(served).toEqual(built);
    });

    it('lets an admin end a grant with the emergency stop, after a confirmation', async () => {
      const context = await browser.newContext({ baseURL: world.config.api.publicUrl, bypassCSP: true });
      try {
        const alice = await context.newPage();
        await signInLocal(alice, 'alice');
        // staging-db's flow is automatic: access at once.
        await alice
          .locator('li.card', { hasText: '(staging-db)' })
          .getByRole('link', { name: /^Request / })
          .click();
        await alice.getByLabel(/^Why/).fill('Checking the staging migration');
        await alice.getByRole('button', { name: 'Send request' }).click();
        await alice.getByText('Active', { exact: true }).waitFor({ timeout: 20_000 });
        const requestUrl = alice.url();
        await context.clearCookies();

        const dave = await context.newPage();
        await signInLocal(dave, 'dave');
        await dave.getByRole('navigation').getByRole('link', { name: 'Emergency stop' }).click();
        await dave.getByLabel('Person (their subject id)').fill('alice');
        await dave.getByLabel('Resource id').fill('staging-db');
        await dave.getByLabel('Reason (recorded on every request)').fill('Laptop reported stolen');
        await dave.getByRole('button', { name: 'Review' }).click();
        await dave.getByText('1 active grant will end now.').waitFor();
        await checkPage(dave, 'admin-emergency-stop', checked);
        await dave.getByRole('button', { name: 'End it now' }).click();
        await dave.getByText('1 of 1 revoked.').waitFor({ timeout: 20_000 });
        await checkPage(dave, 'admin-emergency-stop-done', checked);
        expect(checked.get('admin-emergency-stop')).toEqual([]);
        expect(checked.get('admin-emergency-stop-done')).toEqual([]);

        await dave.goto(requestUrl);
        await dave.getByText('Given back or revoked').first().waitFor({ timeout: 20_000 });
        await dave
          .getByText(/Laptop reported stolen/)
          .first()
          .waitFor();
      } finally {
        await context.close();
      }
    }, 120_000);

    it('runs under its Content-Security-Policy with nothing refused', async () => {
      const page = await browser.newPage({ baseURL: world.config.api.publicUrl });
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
      });
      const answer = await page.goto('/portal/');
      expect(answer?.headers()['content-security-policy']).toContain("script-src 'self'");
      await page.getByRole('button', { name: /\bada\b/ }).click();
      await page.getByRole('navigation').getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Search' }).click();
      await page
        .getByText(/\d+\+? requests?/)
        .first()
        .waitFor();
      expect(refused).toEqual([]);
      await page.close();
    }, 60_000);
  });

  describe('OpenID Connect: sign-in at a real provider (oidc-provider), code flow with PKCE', () => {
    let provider: TestOpenIdProvider;
    let world: ApiWorld;
    beforeAll(async () => {
      // The browser's address is the API's public URL: the provider sends it back there, and changes are
      // accepted from that origin only.
      const port = await chooseServerPort();
      const publicUrl = `http://localhost:${port}`;
      const person = (id: string, groups: string[], roles: string[] = []) => ({
        id,
        claims: { email: `${id}@example.com`, email_verified: true, groups, roles, name: id },
      });
      provider = await TestOpenIdProvider.start({
        shape: GENERIC,
        clientId: 'latchkey-tokens',
        audience: 'latchkey',
        portalRedirectUri: `${publicUrl}/portal/auth/callback`,
        accounts: [
          person('alice', ['engineering']),
          person('bob', ['security']),
          person('ada', ['audit'], ['auditor']),
        ],
      });
      world = await ApiWorld.create('portal-oidc-browser', {
        LATCHKEY_API_PORT: String(port),
        LATCHKEY_PUBLIC_URL: publicUrl,
        LATCHKEY_AUTH_MODE: 'oidc',
        LATCHKEY_AUTH_ISSUER: provider.issuer,
        LATCHKEY_AUTH_AUDIENCE: 'latchkey',
        LATCHKEY_PORTAL_CLIENT_ID: PORTAL_CLIENT_ID,
        LATCHKEY_PORTAL_RESOURCE: API_RESOURCE,
        // The same people as the provider's accounts, so that notifications find them.
        LATCHKEY_DIRECTORY_FILE: path.join(repoRoot(), 'config', 'people.yaml'),
      });
    }, 120_000);
    afterAll(async () => {
      await world?.dispose();
      await provider?.close();
    }, 60_000);

    let pictured = false;
    const signInAtProvider: SignIn = async (page, person) => {
      await page.goto('/portal/');
      await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
      // The provider's own login page, on its own origin.
      const account = page.locator('input[name="account"]');
      await account.waitFor();
      expect(new URL(page.url()).origin).toBe(new URL(provider.issuer).origin);
      if (!pictured) {
        pictured = true;
        await page.screenshot({ path: path.join(screenshots, 'oidc-provider-sign-in.png') });
      }
      await account.fill(person);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      expect(page.url()).toMatch(/\/portal\/$/);
    };

    it('goes through the same lifecycle after signing in at the provider', async () => {
      const checked = new Map<string, string[]>();
      await lifecycle(browser, world.config.api.publicUrl, signInAtProvider, 'oidc-', checked);
      expect([...checked].filter(([, found]) => found.length > 0)).toEqual([]);
    }, 240_000);
  });
});
