import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Log } from './cache';
import { canListen, chooseServerPort } from './ports';

/**
 * A local mail catcher for `npm start` and tests: an SMTP server that accepts every mail (no authentication,
 * no TLS: it listens on loopback and nothing leaves the machine) and a web page that shows what it caught, so
 * that a newcomer sees the mail latchkey sends without a mail server. Mails are kept in memory only.
 */

export interface MailCatcherOptions {
  /** Loopback by default: the catcher takes mail from anyone who can reach it. */
  host?: string;
  /** 0: any free port (a test's own catcher). */
  smtpPort: number;
  webPort: number;
  log: Log;
  /** How many mails are kept; the oldest are dropped. */
  keep?: number;
  /** Larger mails are refused with SMTP 552. */
  maxMessageBytes?: number;
}

/** A mail as the catcher shows it, and as `GET /api/messages` returns it. */
export interface CaughtMail {
  id: string;
  /** When the catcher received it (ISO 8601). */
  receivedAt: string;
  /** The SMTP envelope: the sender and every recipient, Bcc included. */
  envelope: { mailFrom: string; rcptTo: string[] };
  /** The From header, decoded and unquoted for reading (`latchkey <latchkey@localhost>`). */
  from: string;
  /** The addresses of the To header. */
  to: string[];
  cc: string[];
  subject: string;
  /** The Date header (ISO 8601), when the mail has one. */
  date?: string;
  messageId?: string;
  text?: string;
  html?: string;
  /** Every header by lowercase name, as received (not decoded); a repeated one's values joined by a line break. */
  headers: Record<string, string>;
  size: number;
}

export interface RunningMailCatcher {
  /** `smtp://host:port`, for `LATCHKEY_NOTIFY_SMTP_URL`. */
  smtpUrl: string;
  /** The web page. */
  webUrl: string;
  /** The mails kept, newest first. */
  messages(): CaughtMail[];
  stop(): Promise<void>;
}

export const DEFAULT_KEPT_MAILS = 500;
/** latchkey's notifications are a few kilobytes; this leaves room for a test's attachment. */
export const DEFAULT_MAX_MESSAGE_BYTES = 5 * 1024 * 1024;

/** The preferred port when it is free, else one outside the ephemeral range (devstack/ports.ts). */
export async function preferredOrFreePort(host: string, preferred: number): Promise<number> {
  return (await canListen(host, preferred)) ? preferred : chooseServerPort({ host });
}

export async function startMailCatcher(options: MailCatcherOptions): Promise<RunningMailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const keep = options.keep ?? DEFAULT_KEPT_MAILS;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const mails: CaughtMail[] = [];
  let sequence = 0;

  const smtp = new SMTPServer({
    banner: 'latchkey mail catcher',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: maxBytes,
    logger: false,
    // Ctrl-C should not wait 30 s for an idle client.
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      receive(stream, session, maxBytes).then(
        (mail) => {
          mails.unshift({ id: String(++sequence), ...mail });
          mails.length = Math.min(mails.length, keep);
          options.log(`caught a mail to ${mail.envelope.rcptTo.join(', ')}: ${printable(mail.subject)}`);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await listen((ready) => smtp.listen(options.smtpPort, host, ready), smtp);
  smtp.on('error', (error: Error) => options.log(`SMTP: ${error.message}`));
  const smtpUrl = `smtp://${hostInUrl(host)}:${(smtp.server.address() as AddressInfo).port}`;

  const web = http.createServer((request, response) => {
    try {
      serve(request, response, { mails, host, smtpUrl, keep });
    } catch (error) {
      options.log(`web page: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) send(response, 500, 'text/plain', 'the mail catcher failed; see its log');
    }
  });
  try {
    await listen((ready) => web.listen(options.webPort, host, ready), web);
  } catch (error) {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    throw error;
  }
  return {
    smtpUrl,
    webUrl: `http://${hostInUrl(host)}:${(web.address() as AddressInfo).port}`,
    messages: () => [...mails],
    stop: async () => {
      await Promise.all([
        new Promise<void>((resolve) => smtp.close(() => resolve())),
        new Promise<void>((resolve) => {
          web.close(() => resolve());
          web.closeAllConnections();
        }),
      ]);
    },
  };
}

function listen(start: (ready: () => void) => void, server: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    start(() => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function receive(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  maxBytes: number,
): Promise<Omit<CaughtMail, 'id'>> {
  // The whole message is read even when too large, as SMTP requires, but only a small one is kept.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (stream.sizeExceeded || size > maxBytes) {
    throw Object.assign(new Error(`message larger than ${maxBytes} bytes`), { responseCode: 552 });
  }
  const parsed = await simpleParser(Buffer.concat(chunks));
  const { mailFrom, rcptTo } = session.envelope;
  return {
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: mailFrom ? mailFrom.address : '', rcptTo: rcptTo.map((rcpt) => rcpt.address) },
    from: (parsed.from?.value ?? []).map(({ name, address }) => (name ? `${name} <${address}>` : address)).join(', '),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    subject: parsed.subject ?? '',
    date: parsed.date?.toISOString(),
    messageId: parsed.messageId,
    text: parsed.text,
    html: parsed.html === false ? undefined : parsed.html,
    headers: headersOf(parsed),
    size,
  };
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const flatten = (list: AddressObject['value']): string[] =>
    list.flatMap((entry) => [...(entry.address ? [entry.address] : []), ...flatten(entry.group ?? [])]);
  return (Array.isArray(field) ? field : field ? [field] : []).flatMap((object) => flatten(object.value));
}

function headersOf(parsed: ParsedMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    headers[key] = key in headers ? `${headers[key]}\n${value}` : value;
  }
  return headers;
}

/** A subject for a terminal line: control characters dropped, quoted. */
function printable(subject: string): string {
  return JSON.stringify(subject.replace(/\p{Cc}/gu, ''));
}

function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

// --- the web page -------------------------------------------------------------------------------------------

interface WebState {
  mails: CaughtMail[];
  host: string;
  smtpUrl: string;
  keep: number;
}

/** The catcher's own pages: nothing but its stylesheet, its own frames, and no script at all. */
const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * A mail's HTML part, a document from outside: sandboxed (no script, an opaque origin), no remote content
 * (images embedded by cid: arrive as data: URLs), and its links open in a new tab outside the sandbox.
 */
const MAIL_HTML_CSP =
  'sandbox allow-popups allow-popups-to-escape-sandbox; ' +
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
h2 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.note { color: #555; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { font-weight: 600; background: #f4f4f6; }
td.time { white-space: nowrap; color: #555; }
table.headers th { width: 8rem; background: none; }
pre { white-space: pre-wrap; word-break: break-word; background: #f7f7f9; padding: .8rem; border: 1px solid #ddd; }
iframe { width: 100%; height: 60vh; border: 1px solid #ddd; background: #fff; }
a { color: #0a58ca; }
`;

const TITLE = 'latchkey mail catcher';

type Handler = (response: http.ServerResponse, state: WebState, id: string) => void;

/** Each path of the web page and JSON API, with what each of its methods does (`id`: the path's number). */
const ROUTES: { path: RegExp; methods: Record<string, Handler> }[] = [
  { path: /^\/$/, methods: { GET: (response, state) => sendPage(response, 200, TITLE, listPage(state), true) } },
  {
    path: /^\/style\.css$/,
    methods: { GET: (response) => send(response, 200, 'text/css', STYLE, { 'cache-control': 'max-age=300' }) },
  },
  {
    path: /^\/messages\/(\d+)$/,
    methods: {
      GET: (response, state, id) => {
        const mail = find(state, id);
        if (!mail) return sendPage(response, 404, 'No such mail', notFoundPage(id));
        sendPage(response, 200, mail.subject || '(no subject)', mailPage(mail));
      },
    },
  },
  {
    path: /^\/messages\/(\d+)\/html$/,
    methods: {
      GET: (response, state, id) => {
        const html = find(state, id)?.html;
        if (!html) return send(response, 404, 'text/plain', 'no such mail, or it has no HTML part');
        send(response, 200, 'text/html', withLinksInNewTabs(html), { 'content-security-policy': MAIL_HTML_CSP });
      },
    },
  },
  {
    path: /^\/api\/messages$/,
    methods: {
      GET: (response, state) => sendJson(response, 200, state.mails),
      DELETE: (response, state) => {
        state.mails.length = 0;
        send(response, 204, 'text/plain', '');
      },
    },
  },
  {
    path: /^\/api\/messages\/(\d+)$/,
    methods: {
      GET: (response, state, id) => {
        const mail = find(state, id);
        if (mail) sendJson(response, 200, mail);
        else sendJson(response, 404, { error: `no mail ${id}` });
      },
      DELETE: (response, state, id) => {
        const mail = find(state, id);
        if (!mail) return sendJson(response, 404, { error: `no mail ${id}` });
        state.mails.splice(state.mails.indexOf(mail), 1);
        send(response, 204, 'text/plain', '');
      },
    },
  },
];

function serve(request: http.IncomingMessage, response: http.ServerResponse, state: WebState): void {
  // Answers only to its loopback names, so that a web page that rebinds its DNS name to 127.0.0.1 cannot read it.
  if (!isLocalHostHeader(request.headers.host, state.host)) {
    return send(response, 403, 'text/plain', 'the mail catcher answers only at 127.0.0.1 or localhost');
  }
  const pathname = new URL(request.url ?? '/', 'http://catcher').pathname;
  for (const route of ROUTES) {
    const match = route.path.exec(pathname);
    if (!match) continue;
    const method = request.method ?? 'GET';
    if (Object.hasOwn(route.methods, method)) return route.methods[method](response, state, match[1] ?? '');
    return send(response, 405, 'text/plain', 'method not allowed', { allow: Object.keys(route.methods).join(', ') });
  }
  send(response, 404, 'text/plain', 'not found');
}

function find(state: WebState, id: string): CaughtMail | undefined {
  return state.mails.find((mail) => mail.id === id);
}

/**
 * A mail's links open outside its frame: a <base target> sets their default. It goes where a head starts (in
 * <head>, or after <html> or the doctype, which open one), so that a standards-mode mail stays one.
 */
function withLinksInNewTabs(html: string): string {
  const base = '<base target="_blank">';
  const opening = [/<head(\s[^>]*)?>/i, /<html(\s[^>]*)?>/i, /<!doctype[^>]*>/i]
    .map((tag) => tag.exec(html))
    .find((match) => match !== null);
  const at = opening ? opening.index + opening[0].length : 0;
  return html.slice(0, at) + base + html.slice(at);
}

function isLocalHostHeader(header: string | undefined, bound: string): boolean {
  if (!header) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${header}`).hostname;
  } catch {
    return false;
  }
  return ['127.0.0.1', 'localhost', '[::1]', hostInUrl(bound)].includes(hostname);
}

function listPage(state: WebState): string {
  const rows = state.mails.map(
    (mail) =>
      `<tr><td class="time">${escapeHtml(localTime(mail.receivedAt))}</td>` +
      `<td>${escapeHtml(mail.from)}</td><td>${escapeHtml([...mail.to, ...mail.cc].join(', '))}</td>` +
      `<td><a href="/messages/${mail.id}">${escapeHtml(mail.subject || '(no subject)')}</a></td></tr>`,
  );
  const table = rows.length
    ? `<table><thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr></thead>` +
      `<tbody>${rows.join('')}</tbody></table>`
    : `<p>No mail yet. This page reloads every 5 seconds.</p>`;
  return (
    `<h1>${TITLE}</h1>` +
    `<p class="note">Every mail sent to ${escapeHtml(state.smtpUrl)}, newest first (the last ${state.keep} are ` +
    `kept, in memory only) · <a href="/api/messages">as JSON</a></p>${table}`
  );
}

function mailPage(mail: CaughtMail): string {
  const field = (name: string, value: string | undefined) =>
    value ? `<tr><th>${name}</th><td>${escapeHtml(value)}</td></tr>` : '';
  const parts = [
    mail.html
      ? `<h2>HTML</h2><iframe src="/messages/${mail.id}/html" title="the mail's HTML part" ` +
        `sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer"></iframe>`
      : '',
    mail.text !== undefined ? `<h2>Text</h2><pre>${linkify(mail.text)}</pre>` : '',
  ];
  return (
    `<p><a href="/">&larr; all mail</a></p><h1>${escapeHtml(mail.subject || '(no subject)')}</h1>` +
    `<table class="headers">` +
    field('From', mail.from) +
    field('To', mail.to.join(', ')) +
    field('Cc', mail.cc.join(', ')) +
    field('Envelope to', mail.envelope.rcptTo.join(', ')) +
    field('Date', mail.date) +
    field('Received', localTime(mail.receivedAt)) +
    field('Message-ID', mail.messageId) +
    `</table>${parts.join('')}` +
    `<p class="note"><a href="/api/messages/${mail.id}">as JSON</a></p>`
  );
}

function notFoundPage(id: string): string {
  return `<p><a href="/">&larr; all mail</a></p><p>No mail ${escapeHtml(id)}: it was deleted or the catcher restarted.</p>`;
}

const LINK = /\bhttps?:\/\/[^\s<>"']+/g;

/** Plain text as HTML, its http(s) links clickable (trailing punctuation is left out of a link). */
export function linkify(text: string): string {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const start = match.index ?? 0;
    const url = match[0].replace(/[.,;:!?)\]}]+$/, '');
    html +=
      escapeHtml(text.slice(last, start)) +
      `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(url)}</a>`;
    last = start + url.length;
  }
  return html + escapeHtml(text.slice(last));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function localTime(iso: string): string {
  const date = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  );
}

function sendPage(response: http.ServerResponse, status: number, title: string, body: string, reloads = false): void {
  const refresh = reloads ? '<meta http-equiv="refresh" content="5">' : '';
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">${refresh}` +
    `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/style.css"></head><body>${body}</body></html>`;
  send(response, status, 'text/html', html);
}

function sendJson(response: http.ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json', JSON.stringify(value));
}

function send(
  response: http.ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(body);
}
