import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AuthTestResponse,
  ChatPostMessageResponse,
  ChatUpdateResponse,
  ConversationsOpenResponse,
  UsersLookupByEmailResponse,
} from '@slack/web-api';

/**
 * Slack on a local port, for tests: the Web API methods latchkey calls, answered as slack.com answers
 * them, and the signed `block_actions` requests Slack sends to an app when someone clicks a button.
 *
 * What it answers comes from Slack's method reference (docs.slack.dev/reference/methods: arguments,
 * error names, example responses) and the response types of `@slack/web-api`, which are generated from
 * real responses. Where Slack's answer is not known, the server does not guess: it answers HTTP 501 with
 * a sentence saying what it does not model, so a test never passes on an invented answer.
 *
 * How Slack behaves, as modelled here:
 * - Every API error is HTTP 200 with `{ ok: false, error }`; rate limiting is HTTP 429 with `Retry-After`
 *   (seconds) and `{ ok: false, error: 'ratelimited' }`.
 * - The token is read from `Authorization: Bearer …`, or from a `token` form field (never from a JSON
 *   body). None: `not_authed`; another token: `invalid_auth`.
 * - An absent required argument is `invalid_arguments` (with `[ERROR] missing required field: …` in
 *   `response_metadata.messages`); one present but naming nothing is the lookup's error (`channel_not_found`).
 * - `chat.postMessage` to a member id (`U…`/`W…`) posts in the app's DM with that member and answers with
 *   the DM's id (`D…`); `chat.update` takes only conversation ids, a member id there is `channel_not_found`.
 * - Blocks come back as Slack stores them: a `block_id` (and a button `action_id`) is generated where
 *   none was given, `plain_text` gains `emoji: true` and `mrkdwn` gains `verbatim: false`.
 * - `chat.update` without `blocks` keeps the message's blocks (an empty array removes them).
 */

/** A workspace member: the id (`U…` or `W…`), and the name and e-mail address `users.lookupByEmail` finds. */
export interface SlackMember {
  id: string;
  name?: string;
  email?: string;
}

/** A channel the bot is in: the id (`C…` or `G…`) and the name `chat.postMessage` also accepts. */
export interface SlackChannel {
  id: string;
  name?: string;
}

export interface SlackServerOptions {
  /** The bot token (`xoxb-…`) the app was given; any other token is `invalid_auth`. */
  botToken: string;
  /** The app's signing secret, with which `click()` signs interactions. */
  signingSecret: string;
  /** The workspace's members; unset: every well-formed member id is one. */
  members?: Array<string | SlackMember>;
  /** The channels the bot is in; unset: every well-formed channel id is one. */
  channels?: Array<string | SlackChannel>;
  /** The clock for `ts` values and request timestamps, in epoch milliseconds. */
  now?: () => number;
  /**
   * Clicks carry a `response_url` on this server (`<origin>/actions/…`), which records what the app posts to it,
   * instead of Slack's own `https://hooks.slack.com/actions/…`, which cannot be reached from here.
   */
  serveResponseUrls?: boolean;
}

/** What the app posted to a click's `response_url` (an ephemeral reply to the clicker, for instance). */
export interface SlackResponsePost {
  url: string;
  body: unknown;
}

export type SlackBlock = Record<string, unknown>;

/** A message as it stands in Slack, with what each `chat.update` made of it, oldest first. */
export interface SlackMessageRecord {
  /** The conversation id: `C…`/`G…` for a channel, `D…` for a DM. */
  channel: string;
  ts: string;
  /** The author: the bot user, or the member of a message made with `postAsMember`. */
  user: string;
  /** For a DM: the member at the other end. */
  dmWith?: string;
  text: string;
  blocks: SlackBlock[];
  threadTs?: string;
  updates: Array<{ text: string; blocks: SlackBlock[]; editedTs: string }>;
}

/** One request to the Web API, as received and as answered. */
export interface SlackCall {
  method: string;
  params: Record<string, unknown>;
  /** The token the call carried, if any. */
  token?: string;
  contentType?: string;
  status: number;
  /** The JSON answered (or the text of a 5xx). */
  response: unknown;
}

/** What the next call of a method gets instead of its answer. */
export type SlackFault = { error: string } | { ratelimited: number } | { status: number };

export interface ClickOptions {
  /** The message whose button is clicked (a record from `messages()`, or its channel and ts). */
  message: { channel: string; ts: string };
  actionId: string;
  /** The member who clicks. */
  userId: string;
  /** The app's interactivity request URL. */
  url: string;
  /** Signed with another secret than the app's: what a forger without the secret can send. */
  forged?: boolean;
  /** Timestamped six minutes ago: older than the five minutes Slack tells apps to accept. */
  stale?: boolean;
}

/** The bytes and headers of a signed request, kept so `replay()` can send them again unchanged. */
export interface SignedRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface ClickResult {
  /** The app's answer. */
  status: number;
  body: string;
  /** The `block_actions` payload that was sent. */
  payload: BlockActionsPayload;
  request: SignedRequest;
}

/** A `block_actions` interaction payload (docs.slack.dev/reference/interaction-payloads/block_actions-payload). */
export interface BlockActionsPayload {
  type: 'block_actions';
  user: { id: string; username: string; name: string; team_id: string };
  api_app_id: string;
  token: string;
  container: { type: 'message'; message_ts: string; channel_id: string; is_ephemeral: boolean };
  trigger_id: string;
  team: { id: string; domain: string };
  enterprise: null;
  is_enterprise_install: boolean;
  channel: { id: string; name: string };
  message: Record<string, unknown>;
  state: { values: Record<string, unknown> };
  response_url: string;
  actions: Array<{
    action_id: string;
    block_id: string;
    text: unknown;
    value?: string;
    style?: string;
    type: 'button';
    action_ts: string;
  }>;
}

/** Who the app is in the test workspace. */
export const SLACK_WORKSPACE = {
  teamId: 'T0LATCHKEY',
  teamName: 'latchkey test',
  domain: 'latchkey-test',
  appId: 'A0LATCHKEY',
  botId: 'B0LATCHKEY',
  botUserId: 'U0LATCHBOT',
  botName: 'latchkey',
} as const;

export interface SlackServer {
  /** What `new WebClient(token, { slackApiUrl })` takes. */
  readonly apiUrl: string;
  messages(): SlackMessageRecord[];
  /** What the app posted to response URLs (with `serveResponseUrls`). */
  responses(): SlackResponsePost[];
  calls(): SlackCall[];
  /** The next call of `method` fails so (after being recorded); several calls queue several faults. */
  failNext(method: string, fault: SlackFault): void;
  /** The id of the app's DM with a member, as `conversations.open` answers it. */
  dmChannel(userId: string): string;
  /** A message written by a member, not the app (so `chat.update` on it is `cant_update_message`). */
  postAsMember(userId: string, message: { channel: string; text: string; blocks?: SlackBlock[] }): SlackMessageRecord;
  click(options: ClickOptions): Promise<ClickResult>;
  /** Sends a click's exact bytes and headers again, as an attacker who captured it would. */
  replay(previous: ClickResult | SignedRequest): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

export async function startSlackServer(options: SlackServerOptions): Promise<SlackServer> {
  const sut = new FakeSlack(options);
  await sut.listen();
  return sut;
}

type Params = Record<string, unknown>;
/** The field names of an SDK response type (whose types are generated from Slack's real answers). */
type Shape<T> = { [K in keyof T]?: unknown };
type PostedMessage = NonNullable<ChatPostMessageResponse['message']>;
type UpdatedMessage = NonNullable<ChatUpdateResponse['message']>;
interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}
type Outcome<T> = { ok: true; value: T } | { ok: false; answer: Answer };

const MEMBER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;
const DM_ID = /^D[A-Z0-9]{2,}$/;
/** The signature base string's version. */
const SIGNATURE_VERSION = 'v0';
/** A stale click's age: past the five minutes within which Slack tells apps to accept a request. */
const STALE_SECONDS = 6 * 60;

function ok(body: Record<string, unknown>): Answer {
  return { status: 200, body: { ok: true, ...body } };
}

function slackError(error: string, extra: Record<string, unknown> = {}): Answer {
  return { status: 200, body: { ok: false, error, ...extra } };
}

function missingArgument(name: string): Answer {
  return slackError('invalid_arguments', {
    response_metadata: { messages: [`[ERROR] missing required field: ${name}`] },
  });
}

/** Something Slack's documentation does not settle: said plainly instead of answered as if by Slack. */
function notModelled(what: string): Answer {
  return { status: 501, body: `The test Slack server does not model ${what}.` };
}

function randomString(length: number, alphabet: string): string {
  return Array.from(crypto.randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

const DIGITS = '0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Slack's generated block and action ids look like `7/i8g` or `=qXel`. */
const GENERATED_ID = `${ALNUM}+/=`;

class FakeSlack implements SlackServer {
  apiUrl = '';
  private origin = '';
  private readonly server = http.createServer();
  private readonly now: () => number;
  private readonly verificationToken = randomString(24, ALNUM);
  private readonly members?: Map<string, SlackMember>;
  private readonly channels?: Map<string, SlackChannel>;
  private readonly records: SlackMessageRecord[] = [];
  private readonly recordedCalls: SlackCall[] = [];
  private readonly faults = new Map<string, SlackFault[]>();
  private readonly responsePosts: SlackResponsePost[] = [];
  /** DM ids with the member at the other end, and whether the DM has been opened. */
  private readonly dms = new Map<string, { userId: string; open: boolean }>();
  private lastSecond = 0;
  private sequence = 0;

  constructor(private readonly options: SlackServerOptions) {
    this.now = options.now ?? Date.now;
    if (options.members) {
      this.members = new Map(
        options.members.map((member) => (typeof member === 'string' ? { id: member } : member)).map((m) => [m.id, m]),
      );
      for (const id of this.members.keys()) this.dms.set(this.dmChannel(id), { userId: id, open: false });
    }
    if (options.channels) {
      this.channels = new Map(
        options.channels
          .map((channel) => (typeof channel === 'string' ? { id: channel } : channel))
          .map((c) => [c.id, c]),
      );
    }
  }

  async listen(): Promise<void> {
    this.server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      this.handle(request, response).catch((err: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(err));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.origin}/api/`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  messages(): SlackMessageRecord[] {
    return structuredClone(this.records);
  }

  calls(): SlackCall[] {
    return structuredClone(this.recordedCalls);
  }

  responses(): SlackResponsePost[] {
    return structuredClone(this.responsePosts);
  }

  failNext(method: string, fault: SlackFault): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), fault]);
  }

  dmChannel(userId: string): string {
    return `D${crypto.createHash('sha256').update(userId).digest('hex').slice(0, 10).toUpperCase()}`;
  }

  postAsMember(userId: string, message: { channel: string; text: string; blocks?: SlackBlock[] }): SlackMessageRecord {
    const target = this.conversation(message.channel, { memberIds: false, names: false });
    if (!target || !this.member(userId)) throw new Error(`${userId} cannot post in ${message.channel}`);
    const record: SlackMessageRecord = {
      channel: target.id,
      ts: this.nextTs(),
      user: userId,
      dmWith: target.dmWith,
      text: message.text,
      blocks: (message.blocks ?? []).map(normalizeBlock),
      updates: [],
    };
    this.records.push(record);
    return structuredClone(record);
  }

  // --- the Web API ---

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (this.options.serveResponseUrls && url.pathname.startsWith('/actions/') && request.method === 'POST') {
      // Slack answers a response_url post with 200 and the text `ok` (a JSON body it cannot read: `invalid_payload`).
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        response.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        return;
      }
      this.responsePosts.push({ url: `${this.origin}${url.pathname}`, body });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const method = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname)?.[1];
    if (!method || request.method !== 'POST') {
      this.send(response, notModelled(`${request.method} ${url.pathname} (Web API methods are POST /api/<method>)`));
      return;
    }
    const contentType = request.headers['content-type'];
    const parsed = this.parse(raw, contentType, url.searchParams);
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const params = parsed.ok ? parsed.value.params : Object.fromEntries(url.searchParams);
    const token = bearer ?? (parsed.ok ? parsed.value.formToken : undefined);
    const answer = parsed.ok ? this.answer(method, params, token, parsed.value.warning) : parsed.answer;
    const { token: _token, ...recordedParams } = params;
    this.recordedCalls.push({
      method,
      params: recordedParams,
      token,
      contentType,
      status: answer.status,
      response: answer.body,
    });
    this.send(response, answer);
  }

  private send(response: http.ServerResponse, answer: Answer): void {
    const json = typeof answer.body !== 'string';
    response.writeHead(answer.status, {
      'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
      ...answer.headers,
    });
    response.end(json ? JSON.stringify(answer.body) : answer.body);
  }

  /** The arguments as Slack reads them: form fields or a JSON object, plus the query string. */
  private parse(
    raw: string,
    contentType: string | undefined,
    query: URLSearchParams,
  ): Outcome<{ params: Params; formToken?: string; warning?: string }> {
    const fromQuery = Object.fromEntries(query);
    if (raw.length === 0) return { ok: true, value: { params: fromQuery, formToken: query.get('token') ?? undefined } };
    if (!contentType) return { ok: false, answer: slackError('missing_post_type') };
    const [type, ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
    if (type === 'application/x-www-form-urlencoded') {
      const params: Params = { ...fromQuery, ...Object.fromEntries(new URLSearchParams(raw)) };
      return { ok: true, value: { params, formToken: typeof params.token === 'string' ? params.token : undefined } };
    }
    if (type === 'application/json') {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return { ok: false, answer: notModelled('a JSON body that does not parse') };
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return { ok: false, answer: notModelled('a JSON body that is not an object') };
      }
      // Slack reads the token of a JSON call from its Authorization header only.
      const params: Params = { ...fromQuery, ...(body as Params) };
      const charset = parameters.some((parameter) => parameter.startsWith('charset='));
      return { ok: true, value: { params, warning: charset ? undefined : 'missing_charset' } };
    }
    if (type === 'multipart/form-data') return { ok: false, answer: notModelled('multipart bodies (file uploads)') };
    return { ok: false, answer: slackError('invalid_post_type') };
  }

  private answer(method: string, params: Params, token: string | undefined, warning: string | undefined): Answer {
    const fault = this.faults.get(method)?.shift();
    if (fault) return this.faultAnswer(fault);
    if (!token) return slackError('not_authed');
    if (token !== this.options.botToken) return slackError('invalid_auth');
    const answer = this.dispatch(method, params);
    if (warning && typeof answer.body === 'object' && answer.body !== null) {
      const body = answer.body as Record<string, unknown>;
      const metadata = (body.response_metadata as Record<string, unknown> | undefined) ?? {};
      return { ...answer, body: { ...body, warning, response_metadata: { ...metadata, warnings: [warning] } } };
    }
    return answer;
  }

  private faultAnswer(fault: SlackFault): Answer {
    if ('error' in fault) return slackError(fault.error);
    if ('ratelimited' in fault) {
      return {
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': String(fault.ratelimited) },
      };
    }
    return { status: fault.status, body: `HTTP ${fault.status} from the test Slack server` };
  }

  private dispatch(method: string, params: Params): Answer {
    switch (method) {
      case 'auth.test':
        return this.authTest();
      case 'chat.postMessage':
        return this.postMessage(params);
      case 'chat.update':
        return this.update(params);
      case 'conversations.open':
        return this.open(params);
      case 'users.lookupByEmail':
        return this.lookupByEmail(params);
      default:
        return notModelled(`the method ${method}`);
    }
  }

  private authTest(): Answer {
    const body = {
      url: `https://${SLACK_WORKSPACE.domain}.slack.com/`,
      team: SLACK_WORKSPACE.teamName,
      user: SLACK_WORKSPACE.botName,
      team_id: SLACK_WORKSPACE.teamId,
      user_id: SLACK_WORKSPACE.botUserId,
      bot_id: SLACK_WORKSPACE.botId,
      is_enterprise_install: false,
    } satisfies Shape<AuthTestResponse>;
    return ok(body);
  }

  private postMessage(params: Params): Answer {
    if (params.channel === undefined) return missingArgument('channel');
    const target = this.conversation(params.channel, { memberIds: true, names: true });
    if (!target) return slackError('channel_not_found');
    const blocks = parseBlocks(params.blocks);
    if (!blocks.ok) return blocks.answer;
    const text = stringParam(params.text);
    if (!text && !blocks.value?.length && !hasAttachments(params.attachments)) return slackError('no_text');
    if (target.dmWith) this.dms.set(target.id, { userId: target.dmWith, open: true });
    const record: SlackMessageRecord = {
      channel: target.id,
      ts: this.nextTs(),
      user: SLACK_WORKSPACE.botUserId,
      dmWith: target.dmWith,
      // Blocks without a fallback text: the text Slack stores for clients that cannot show them.
      text: text || "This content can't be displayed.",
      blocks: blocks.value ?? [],
      threadTs: stringParam(params.thread_ts),
      updates: [],
    };
    this.records.push(record);
    const body = {
      channel: record.channel,
      ts: record.ts,
      message: this.view(record),
    } satisfies Shape<ChatPostMessageResponse>;
    return ok(body);
  }

  private update(params: Params): Answer {
    if (params.channel === undefined) return missingArgument('channel');
    if (params.ts === undefined) return missingArgument('ts');
    const target = this.conversation(params.channel, { memberIds: false, names: false });
    if (!target) return slackError('channel_not_found');
    const record = this.records.find((r) => r.channel === target.id && r.ts === stringParam(params.ts));
    if (!record) return slackError('message_not_found');
    if (record.user !== SLACK_WORKSPACE.botUserId) return slackError('cant_update_message');
    const blocks = parseBlocks(params.blocks);
    if (!blocks.ok) return blocks.answer;
    const text = stringParam(params.text);
    if (!text && !blocks.value?.length && !hasAttachments(params.attachments)) return slackError('no_text');
    // Without `blocks` the message keeps its blocks; an empty array removes them.
    record.blocks = blocks.value ?? record.blocks;
    record.text = text || record.text;
    const editedTs = this.nextTs();
    record.updates.push({ text: record.text, blocks: structuredClone(record.blocks), editedTs });
    // The SDK's type of this answer, made from Slack's, has neither `ts` nor `thread_ts` in the message.
    const { ts: _ts, thread_ts: _threadTs, ...message } = this.view(record);
    const body = {
      channel: record.channel,
      ts: record.ts,
      text: record.text,
      message,
    } satisfies Shape<ChatUpdateResponse>;
    return ok(body);
  }

  private open(params: Params): Answer {
    const users = stringParam(params.users);
    if (users === undefined && params.channel === undefined) return slackError('users_list_not_supplied');
    let userId: string;
    if (users === undefined) {
      const target = this.conversation(params.channel, { memberIds: false, names: false });
      if (!target?.dmWith) return slackError('channel_not_found');
      userId = target.dmWith;
    } else {
      const ids = users.split(',').map((id) => id.trim());
      if (ids.length > 1) return notModelled('multi-person DMs');
      if (!this.member(ids[0])) return slackError('user_not_found');
      userId = ids[0];
    }
    const dm = this.dmChannel(userId);
    const alreadyOpen = this.dms.get(dm)?.open ?? false;
    this.dms.set(dm, { userId, open: true });
    const channel = booleanParam(params.return_im)
      ? ({
          id: dm,
          created: Math.floor(this.now() / 1000),
          is_im: true,
          is_org_shared: false,
          user: userId,
          last_read: '0000000000.000000',
          latest: null,
          unread_count: 0,
          unread_count_display: 0,
          is_open: true,
          priority: 0,
        } satisfies Shape<NonNullable<ConversationsOpenResponse['channel']>>)
      : { id: dm };
    const body = {
      ...(alreadyOpen ? { no_op: true, already_open: true } : {}),
      channel,
    } satisfies Shape<ConversationsOpenResponse>;
    return ok(body);
  }

  private lookupByEmail(params: Params): Answer {
    const email = stringParam(params.email);
    if (email === undefined) return missingArgument('email');
    const member = [...(this.members?.values() ?? [])].find((m) => m.email?.toLowerCase() === email.toLowerCase());
    if (!member) return slackError('users_not_found');
    const name = member.name ?? member.id.toLowerCase();
    const body = {
      user: {
        id: member.id,
        team_id: SLACK_WORKSPACE.teamId,
        name,
        deleted: false,
        real_name: name,
        is_bot: false,
        is_app_user: false,
        profile: { email: member.email, real_name: name, display_name: name },
      } satisfies Shape<NonNullable<UsersLookupByEmailResponse['user']>>,
    } satisfies Shape<UsersLookupByEmailResponse>;
    return ok(body);
  }

  /** The message as Slack shows it in API answers and interaction payloads (a bot's message). */
  private view(record: SlackMessageRecord) {
    const edited = record.updates.at(-1);
    return {
      user: record.user,
      type: 'message',
      ts: record.ts,
      ...(record.user === SLACK_WORKSPACE.botUserId
        ? {
            bot_id: SLACK_WORKSPACE.botId,
            app_id: SLACK_WORKSPACE.appId,
            bot_profile: {
              id: SLACK_WORKSPACE.botId,
              app_id: SLACK_WORKSPACE.appId,
              name: SLACK_WORKSPACE.botName,
              deleted: false,
              team_id: SLACK_WORKSPACE.teamId,
            },
          }
        : {}),
      text: record.text,
      team: SLACK_WORKSPACE.teamId,
      ...(record.threadTs ? { thread_ts: record.threadTs } : {}),
      ...(edited ? { edited: { user: record.user, ts: edited.editedTs } } : {}),
      ...(record.blocks.length > 0 ? { blocks: structuredClone(record.blocks) } : {}),
    } satisfies Shape<PostedMessage & UpdatedMessage>;
  }

  /**
   * A conversation argument: a channel id, a DM id, or (where the method takes them) a member id,
   * meaning the app's DM with that member, or a channel name.
   */
  private conversation(
    arg: unknown,
    accepts: { memberIds: boolean; names: boolean },
  ): { id: string; dmWith?: string } | undefined {
    const value = stringParam(arg) ?? '';
    if (MEMBER_ID.test(value)) {
      return accepts.memberIds && this.member(value) ? { id: this.dmChannel(value), dmWith: value } : undefined;
    }
    if (DM_ID.test(value)) {
      const userId = this.dmPartner(value);
      return userId ? { id: value, dmWith: userId } : undefined;
    }
    if (CHANNEL_ID.test(value)) return !this.channels || this.channels.has(value) ? { id: value } : undefined;
    if (!accepts.names) return undefined;
    const name = value.replace(/^#/, '');
    const named = [...(this.channels?.values() ?? [])].find((channel) => channel.name === name);
    return named ? { id: named.id } : undefined;
  }

  private member(userId: string): SlackMember | undefined {
    if (!MEMBER_ID.test(userId)) return undefined;
    return this.members ? this.members.get(userId) : { id: userId };
  }

  private dmPartner(dm: string): string | undefined {
    return this.dms.get(dm)?.userId;
  }

  /** Slack's `ts`: epoch seconds and a six-digit sequence, unique and increasing within the server. */
  private nextTs(): string {
    this.lastSecond = Math.max(Math.floor(this.now() / 1000), this.lastSecond);
    this.sequence += 1;
    return `${this.lastSecond}.${String(this.sequence % 1_000_000).padStart(6, '0')}`;
  }

  // --- interactions ---

  async click(options: ClickOptions): Promise<ClickResult> {
    const payload = this.blockActions(options);
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = Math.floor(this.now() / 1000) - (options.stale ? STALE_SECONDS : 0);
    const secret = options.forged ? `forged-${randomString(32, ALNUM)}` : this.options.signingSecret;
    const request: SignedRequest = {
      url: options.url,
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signature(secret, timestamp, body),
      },
    };
    return { ...(await deliver(request)), payload, request };
  }

  replay(previous: ClickResult | SignedRequest): Promise<{ status: number; body: string }> {
    return deliver('request' in previous ? previous.request : previous);
  }

  private blockActions(options: ClickOptions): BlockActionsPayload {
    const record = this.records.find((r) => r.channel === options.message.channel && r.ts === options.message.ts);
    if (!record) throw new Error(`no message ${options.message.ts} in ${options.message.channel}`);
    const member = this.member(options.userId);
    if (!member) throw new Error(`${options.userId} is not a member of the workspace`);
    if (record.dmWith && record.dmWith !== options.userId) {
      throw new Error(`${options.userId} cannot see the DM ${record.channel}, which is ${record.dmWith}'s`);
    }
    const found = findButton(record.blocks, options.actionId);
    if (!found) throw new Error(`no button with action_id ${options.actionId} in the message as it stands`);
    const seconds = this.now() / 1000;
    const username = member.name ?? member.id.toLowerCase();
    const channelName = record.dmWith
      ? 'directmessage'
      : (this.channels?.get(record.channel)?.name ?? record.channel.toLowerCase());
    return {
      type: 'block_actions',
      user: { id: member.id, username, name: username, team_id: SLACK_WORKSPACE.teamId },
      api_app_id: SLACK_WORKSPACE.appId,
      token: this.verificationToken,
      container: { type: 'message', message_ts: record.ts, channel_id: record.channel, is_ephemeral: false },
      trigger_id: `${randomString(13, DIGITS)}.${randomString(13, DIGITS)}.${crypto.randomBytes(16).toString('hex')}`,
      team: { id: SLACK_WORKSPACE.teamId, domain: SLACK_WORKSPACE.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: record.channel, name: channelName },
      message: this.view(record),
      state: { values: {} },
      response_url: `${this.options.serveResponseUrls ? this.origin : 'https://hooks.slack.com'}/actions/${SLACK_WORKSPACE.teamId}/${randomString(13, DIGITS)}/${randomString(24, ALNUM)}`,
      actions: [
        {
          action_id: options.actionId,
          block_id: found.blockId,
          text: found.button.text,
          ...(typeof found.button.value === 'string' ? { value: found.button.value } : {}),
          ...(typeof found.button.style === 'string' ? { style: found.button.style } : {}),
          type: 'button',
          action_ts: seconds.toFixed(6),
        },
      ],
    };
  }
}

/** `v0=` and the hex HMAC-SHA256, keyed with the signing secret, of `v0:<timestamp>:<body>`. */
function signature(secret: string, timestamp: number, body: string): string {
  const hmac = crypto.createHmac('sha256', secret).update(`${SIGNATURE_VERSION}:${timestamp}:${body}`);
  return `${SIGNATURE_VERSION}=${hmac.digest('hex')}`;
}

async function deliver(request: SignedRequest): Promise<{ status: number; body: string }> {
  const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, body: await response.text() };
}

function stringParam(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function booleanParam(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

function hasAttachments(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value !== 'string') return false;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.length > 0;
  } catch {
    return false;
  }
}

function findButton(
  blocks: SlackBlock[],
  actionId: string,
): { blockId: string; button: Record<string, unknown> } | undefined {
  for (const block of blocks) {
    const elements = block.type === 'actions' && Array.isArray(block.elements) ? block.elements : [block.accessory];
    for (const element of elements as Array<Record<string, unknown> | undefined>) {
      if (element?.type === 'button' && element.action_id === actionId) {
        return { blockId: String(block.block_id), button: element };
      }
    }
  }
  return undefined;
}

// --- Block Kit, as Slack checks and stores it ---

/**
 * Slack's block types in messages. Those latchkey uses are checked against the Block Kit reference's
 * rules; the others are stored as given.
 */
const MESSAGE_BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);
const INTERACTIVE_ELEMENT =
  /^(button|checkboxes|datepicker|datetimepicker|timepicker|overflow|radio_buttons|.*_select)$/;

/**
 * `blocks` as Slack takes it (a JSON array, or its text in a form field): `invalid_blocks_format` when it is
 * not a JSON array, `invalid_blocks` with one message per problem when a block breaks Block Kit's rules.
 * The problems' wording follows Slack's (`… [json-pointer:/blocks/0/text]`); only the error name is
 * Slack's contract.
 */
function parseBlocks(raw: unknown): Outcome<SlackBlock[] | undefined> {
  if (raw === undefined) return { ok: true, value: undefined };
  let blocks = raw;
  if (typeof raw === 'string') {
    try {
      blocks = JSON.parse(raw);
    } catch {
      return { ok: false, answer: slackError('invalid_blocks_format') };
    }
  }
  if (!Array.isArray(blocks)) return { ok: false, answer: slackError('invalid_blocks_format') };
  const problems = blockProblems(blocks as unknown[]);
  if (problems.length > 0) {
    return {
      ok: false,
      answer: slackError('invalid_blocks', {
        errors: problems,
        response_metadata: { messages: problems.map((problem) => `[ERROR] ${problem}`) },
      }),
    };
  }
  return { ok: true, value: (blocks as SlackBlock[]).map(normalizeBlock) };
}

function blockProblems(blocks: unknown[]): string[] {
  const problems: string[] = [];
  const at = (pointer: string, problem: string) => problems.push(`${problem} [json-pointer:/blocks${pointer}]`);
  if (blocks.length > 50) at('', 'must provide at most 50 items');
  const blockIds = new Set<string>();
  blocks.forEach((value, index) => {
    const block = value as SlackBlock;
    const here = `/${index}`;
    if (typeof block !== 'object' || block === null || typeof block.type !== 'string') {
      at(here, 'must provide an object with a type');
      return;
    }
    if (!MESSAGE_BLOCK_TYPES.has(block.type)) at(here, `unsupported type: ${block.type}`);
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length === 0 || block.block_id.length > 255) {
        at(`${here}/block_id`, 'must be a string of 1 to 255 characters');
      } else if (blockIds.has(block.block_id)) at(`${here}/block_id`, `duplicate block_id: ${block.block_id}`);
      else blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'section':
        if (block.text === undefined && block.fields === undefined) at(here, 'must provide text or fields');
        if (block.text !== undefined) textProblems(block.text, ['plain_text', 'mrkdwn'], 3000, `${here}/text`, at);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length === 0 || block.fields.length > 10) {
            at(`${here}/fields`, 'must provide 1 to 10 items');
          } else {
            block.fields.forEach((field, i) =>
              textProblems(field, ['plain_text', 'mrkdwn'], 2000, `${here}/fields/${i}`, at),
            );
          }
        }
        if (block.accessory !== undefined) elementProblems(block.accessory, `${here}/accessory`, at);
        break;
      case 'header':
        textProblems(block.text, ['plain_text'], 150, `${here}/text`, at);
        break;
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) {
          at(`${here}/elements`, 'must provide 1 to 10 items');
        } else {
          block.elements.forEach((element: unknown, i) => {
            if ((element as SlackBlock | undefined)?.type !== 'image') {
              textProblems(element, ['plain_text', 'mrkdwn'], 3000, `${here}/elements/${i}`, at);
            }
          });
        }
        break;
      case 'actions':
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25) {
          at(`${here}/elements`, 'must provide 1 to 25 items');
        } else {
          const actionIds = new Set<string>();
          block.elements.forEach((element: unknown, i) => {
            elementProblems(element, `${here}/elements/${i}`, at);
            const actionId = (element as SlackBlock | undefined)?.action_id;
            if (typeof actionId !== 'string') return;
            if (actionIds.has(actionId)) at(`${here}/elements/${i}/action_id`, `duplicate action_id: ${actionId}`);
            actionIds.add(actionId);
          });
        }
        break;
    }
  });
  return problems;
}

type At = (pointer: string, problem: string) => void;

function textProblems(value: unknown, types: string[], max: number, pointer: string, at: At): void {
  const text = value as SlackBlock | undefined;
  if (typeof text !== 'object' || text === null) return at(pointer, 'must provide a text object');
  if (typeof text.type !== 'string' || !types.includes(text.type)) {
    return at(`${pointer}/type`, `must be one of ${types.join(', ')}`);
  }
  if (typeof text.text !== 'string' || text.text.length === 0) {
    return at(`${pointer}/text`, 'must be more than 0 characters');
  }
  if (text.text.length > max) at(`${pointer}/text`, `must be less than ${max + 1} characters`);
}

function elementProblems(value: unknown, pointer: string, at: At): void {
  const element = value as SlackBlock | undefined;
  if (typeof element !== 'object' || element === null || typeof element.type !== 'string') {
    return at(pointer, 'must provide an element with a type');
  }
  if (element.action_id !== undefined && (typeof element.action_id !== 'string' || element.action_id.length > 255)) {
    at(`${pointer}/action_id`, 'must be a string of at most 255 characters');
  }
  if (element.type !== 'button') return;
  textProblems(element.text, ['plain_text'], 75, `${pointer}/text`, at);
  if (element.value !== undefined && (typeof element.value !== 'string' || element.value.length > 2000)) {
    at(`${pointer}/value`, 'must be a string of at most 2000 characters');
  }
  if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
    at(`${pointer}/style`, 'must be one of primary, danger');
  }
}

/** What Slack adds to the blocks it stores: ids where none were given, and its text objects' defaults. */
function normalizeBlock(block: SlackBlock): SlackBlock {
  const stored = normalizeValue(block) as SlackBlock;
  stored.block_id ??= randomString(5, GENERATED_ID);
  const elements = [...(Array.isArray(stored.elements) ? stored.elements : []), stored.accessory] as Array<
    SlackBlock | undefined
  >;
  for (const element of elements) {
    if (element && typeof element.type === 'string' && INTERACTIVE_ELEMENT.test(element.type)) {
      element.action_id ??= randomString(4, GENERATED_ID);
    }
  }
  return stored;
}

function normalizeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (typeof value !== 'object' || value === null) return value;
  const object = Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, normalizeValue(inner)]));
  if (object.type === 'plain_text' && typeof object.text === 'string') object.emoji ??= true;
  if (object.type === 'mrkdwn' && typeof object.text === 'string') object.verbatim ??= false;
  return object;
}
