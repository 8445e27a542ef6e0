import * as http from 'node:http';
import { createTransport } from 'nodemailer';
import { escapeHtml, linkify, startMailCatcher, type CaughtMail, type RunningMailCatcher } from './mail-catcher';

/** Opens only loopback sockets on ports the kernel picks: a unit test, as quick as one. */
describe('startMailCatcher', () => {
  let sut: RunningMailCatcher;
  const logged: string[] = [];

  beforeAll(async () => {
    sut = await startMailCatcher({ smtpPort: 0, webPort: 0, log: (message) => logged.push(message), keep: 3 });
  });

  afterAll(() => sut.stop());

  beforeEach(async () => {
    expect((await fetch(`${sut.webUrl}/api/messages`, { method: 'DELETE' })).status).toBe(204);
  });

  const send = (mail: { subject: string; text?: string; html?: string; to?: string; bcc?: string }) =>
    createTransport(sut.smtpUrl).sendMail({
      from: 'latchkey <latchkey@localhost>',
      to: 'bob@example.com',
      ...mail,
      headers: { 'X-Latchkey-Request': 'req_1' },
    });

  const listed = async () => (await (await fetch(`${sut.webUrl}/api/messages`)).json()) as CaughtMail[];

  it('catches a mail sent with nodemailer, without authentication or TLS, and lists it in the JSON API', async () => {
    const sent = await send({
      subject: 'Approve alice’s request for prod-db',
      text: 'Approve at http://localhost:3000/v1/requests/req_1.',
      html: '<p>Approve <a href="http://localhost:3000/v1/requests/req_1">here</a></p>',
      bcc: 'audit@example.com',
    });

    const [mail] = await listed();
    expect(mail).toMatchObject({
      from: 'latchkey <latchkey@localhost>',
      to: ['bob@example.com'],
      subject: 'Approve alice’s request for prod-db',
      text: 'Approve at http://localhost:3000/v1/requests/req_1.',
      html: '<p>Approve <a href="http://localhost:3000/v1/requests/req_1">here</a></p>',
      messageId: sent.messageId,
      envelope: { mailFrom: 'latchkey@localhost', rcptTo: ['bob@example.com', 'audit@example.com'] },
    });
    expect(mail.headers['x-latchkey-request']).toBe('req_1');
    expect(mail.headers['message-id']).toBe(sent.messageId);
    expect(await (await fetch(`${sut.webUrl}/api/messages/${mail.id}`)).json()).toEqual(mail);
    expect(sut.messages()).toEqual([mail]);
    expect(logged).toContain(
      'caught a mail to bob@example.com, audit@example.com: "Approve alice’s request for prod-db"',
    );
  });

  it('lists the newest first and keeps only the last ones', async () => {
    for (const n of [1, 2, 3, 4]) await send({ subject: `mail ${n}`, text: 'x' });
    expect((await listed()).map((mail) => mail.subject)).toEqual(['mail 4', 'mail 3', 'mail 2']);
  });

  it('shows the list page with every subject escaped, under a strict Content-Security-Policy', async () => {
    await send({ subject: '<script>alert("x")</script> & more', text: 'hello' });

    const response = await fetch(sut.webUrl);
    const page = await response.text();
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-security-policy')).not.toContain('script-src');
    expect(page).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; more');
    expect(page).not.toContain('<script');
    expect(page).toContain('latchkey@localhost');
    expect(page).toContain('bob@example.com');
  });

  it('shows a mail: its text with clickable links, and its HTML in a sandboxed frame served with a sandbox policy', async () => {
    await send({
      subject: 'Access granted',
      text: 'Open https://share.example/s/abc?x=1&y=2. <b>not bold</b>',
      html: '<html><head><title>t</title></head><body><a href="https://share.example/s/abc">open</a><script>x()</script></body></html>',
    });
    const [mail] = await listed();

    const page = await (await fetch(`${sut.webUrl}/messages/${mail.id}`)).text();
    expect(page).toContain(
      'Open <a href="https://share.example/s/abc?x=1&#38;y=2" target="_blank" rel="noopener noreferrer">' +
        'https://share.example/s/abc?x=1&#38;y=2</a>. &#60;b&#62;not bold&#60;/b&#62;',
    );
    expect(page).toMatch(
      /<iframe src="\/messages\/\d+\/html"[^>]* sandbox="allow-popups allow-popups-to-escape-sandbox"/,
    );

    const framed = await fetch(`${sut.webUrl}/messages/${mail.id}/html`);
    expect(framed.headers.get('content-security-policy')).toMatch(
      /^sandbox allow-popups allow-popups-to-escape-sandbox;/,
    );
    expect(framed.headers.get('content-security-policy')).not.toContain('script-src');
    expect(await framed.text()).toBe(
      '<html><head><base target="_blank"><title>t</title></head><body><a href="https://share.example/s/abc">open</a><script>x()</script></body></html>',
    );
  });

  it.each([
    ['<p>no document</p>', '<base target="_blank"><p>no document</p>'],
    ['<!doctype html><p>x</p>', '<!doctype html><base target="_blank"><p>x</p>'],
    [
      '<!DOCTYPE html><html lang="en"><body>x</body></html>',
      '<!DOCTYPE html><html lang="en"><base target="_blank"><body>x</body></html>',
    ],
  ])('opens the links of an HTML part in a new tab, keeping its doctype first: %s', async (html, served) => {
    await send({ subject: 'framed', html });
    const [mail] = await listed();
    // (the parser ends a part without a text alternative with a line break)
    expect((await (await fetch(`${sut.webUrl}/messages/${mail.id}/html`)).text()).trimEnd()).toBe(served);
  });

  it('forgets every mail on DELETE /api/messages, and one on DELETE /api/messages/:id', async () => {
    await send({ subject: 'one', text: 'x' });
    await send({ subject: 'two', text: 'x' });
    const [two] = await listed();
    expect((await fetch(`${sut.webUrl}/api/messages/${two.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await listed()).map((mail) => mail.subject)).toEqual(['one']);
    expect((await fetch(`${sut.webUrl}/api/messages/${two.id}`)).status).toBe(404);

    expect((await fetch(`${sut.webUrl}/api/messages`, { method: 'DELETE' })).status).toBe(204);
    expect(await listed()).toEqual([]);
    expect(await (await fetch(sut.webUrl)).text()).toContain('No mail yet');
  });

  it('refuses a mail larger than its limit', async () => {
    const small = await startMailCatcher({ smtpPort: 0, webPort: 0, log: () => {}, maxMessageBytes: 10_000 });
    try {
      await expect(
        createTransport(small.smtpUrl).sendMail({ from: 'a@localhost', to: 'b@localhost', text: 'x'.repeat(20_000) }),
      ).rejects.toMatchObject({ responseCode: 552 });
      expect(small.messages()).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  it('answers only to its loopback names, so that a rebound DNS name cannot read the mail', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = http.get(`${sut.webUrl}/api/messages`, { headers: { host: 'attacker.example:8025' } }, (r) => {
        r.resume();
        resolve(r.statusCode);
      });
      request.on('error', reject);
    });
    expect(status).toBe(403);
  });

  it('refuses a method a path does not have', async () => {
    const response = await fetch(`${sut.webUrl}/api/messages`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, DELETE');
  });
});

describe(linkify.name, () => {
  it('makes http(s) links clickable, leaving trailing punctuation and every other scheme as text', () => {
    expect(linkify('see (https://a.example/x), javascript:alert(1) or http://b.example/"<x>')).toBe(
      'see (<a href="https://a.example/x" target="_blank" rel="noopener noreferrer">https://a.example/x</a>), ' +
        'javascript:alert(1) or ' +
        '<a href="http://b.example/" target="_blank" rel="noopener noreferrer">http://b.example/</a>&#34;&#60;x&#62;',
    );
  });

  it('escapes what HTML would read as markup', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
    );
  });
});
