import * as crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Directory } from '../../../domain/directory';
import { REQUEST_ID_PATTERN } from '../../../domain/ids';
import { SLACK_ACTIONS } from '../../../contracts/notifications';
import type { Caller } from '../identity/caller';
import { toErrorResponse } from '../errors/error-mapping';
import type { RequestsService } from '../requests/requests.service';

/** Slack's own bound: a request signed longer ago than this is refused (a replay of an old click). */
const MAX_AGE_SECONDS = 5 * 60;

export const SLACK_INTERACTIONS_PATH = '/slack/interactions';

export interface SlackInteractionsOptions {
  /** The Slack app's signing secret: Slack signs every interactive request with it. */
  signingSecret: string;
  /** Who a Slack member is: their id, groups and roles come from here, never from the payload. */
  directory: Directory;
  requests: Pick<RequestsService, 'change'>;
  /** The origin of Slack's response URLs (`https://hooks.slack.com`): a clicker is answered through no other. */
  responseOrigin: string;
  logger: Logger;
  bodyLimitBytes: number;
  nowMs?: () => number;
}

/** The part of Slack's `block_actions` payload latchkey reads. */
interface BlockActions {
  type?: string;
  user?: { id?: string };
  response_url?: string;
  actions?: Array<{ action_id?: string; value?: string }>;
}

/**
 * Approve and Reject clicks on latchkey's Slack messages. Each request must carry Slack's signature of its exact
 * bytes, made within five minutes, and is accepted once: a signature seen before is refused here, and the command
 * it becomes carries a nonce derived from that signature, which the request's workflow accepts once, whichever
 * API instance the replay reaches. The click is answered at once (Slack waits three seconds at most); the
 * decision goes on in the background, and the message itself is updated when the request is decided.
 */
export function registerSlackInteractions(fastify: FastifyInstance, options: SlackInteractionsOptions): void {
  const seen = new Map<string, number>();
  const now = options.nowMs ?? Date.now;
  // Not awaited, so that its route (and those before it) take Nest's error handler, installed at init.
  void fastify.register((scope, _opts, done) => {
    // Slack posts a form; the exact bytes are what it signed, so they are kept as they came (in this scope only).
    scope.removeContentTypeParser('application/x-www-form-urlencoded');
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: options.bodyLimitBytes },
      (_request, body, next) => next(null, body),
    );
    scope.post(SLACK_INTERACTIONS_PATH, async (request, reply) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const refusal = checkSignature(options.signingSecret, request.headers, raw, now() / 1000, seen);
      if (refusal) {
        options.logger.warn({ refusal }, 'refused a Slack interaction');
        return reply.code(401).send({ code: 'slack-signature-refused', message: refusal });
      }
      const click = clickOf(raw);
      if (!click) return reply.code(400).send({ code: 'slack-payload-unreadable', message: 'not a latchkey button' });
      const person = options.directory.slackMember(click.slackUserId);
      const answerClicker = (text: string) => replyInSlack(click.responseUrl, options, text);
      if (!person) {
        options.logger.warn({ slackUserId: click.slackUserId }, 'a Slack member the directory does not know clicked');
        answerClicker('latchkey does not know your Slack account, so it recorded nothing. Ask an admin to add you.');
        return reply.code(200).send();
      }
      const caller: Caller = {
        identity: { id: person.id, email: person.email, groups: [...person.groups] },
        roles: [...person.roles],
      };
      const nonce = crypto
        .createHash('sha256')
        .update(String(request.headers['x-slack-signature']))
        .digest('base64url');
      void options.requests.change(caller, click.requestId, click.decision, {}, { nonce }).then(
        () => options.logger.info({ requestId: click.requestId, by: person.id }, `${click.decision} from Slack`),
        (error: unknown) => {
          const { body } = toErrorResponse(error);
          options.logger.warn(
            { requestId: click.requestId, by: person.id, code: body.error.code },
            `${click.decision} from Slack refused`,
          );
          answerClicker(`latchkey did not record your ${click.decision}: ${body.error.message}`);
        },
      );
      return reply.code(200).send();
    });
    done();
  });
}

/**
 * Slack's request signing (v0): why a request is refused, or undefined. A seen signature is kept by its request's
 * timestamp, until the request is too old to pass: kept by when it arrived, one dated ahead of this clock (Slack's
 * clock ahead of ours) would be forgotten while it could still pass, and be accepted again.
 */
export function checkSignature(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  raw: string,
  nowSeconds: number,
  seen: Map<string, number>,
): string | undefined {
  const timestamp = headers['x-slack-request-timestamp'];
  const signature = headers['x-slack-signature'];
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp) || typeof signature !== 'string')
    return 'no Slack signature';
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_AGE_SECONDS) return 'signed too long ago';
  const expected = `v0=${crypto.createHmac('sha256', secret).update(`v0:${timestamp}:${raw}`).digest('hex')}`;
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, Buffer.from(expected)))
    return 'the signature does not match';
  for (const [key, at] of seen) if (at < nowSeconds - MAX_AGE_SECONDS) seen.delete(key);
  if (seen.has(signature)) return 'already received';
  seen.set(signature, Number(timestamp));
  return undefined;
}

/**
 * Tells the clicker, and only them (an ephemeral message), why nothing was recorded. Only to a response URL on
 * Slack's own origin: the payload is signed by Slack, but the API does not post wherever a payload says.
 */
function replyInSlack(
  responseUrl: string | undefined,
  options: Pick<SlackInteractionsOptions, 'responseOrigin' | 'logger'>,
  text: string,
): void {
  if (!responseUrl || !URL.canParse(responseUrl) || new URL(responseUrl).origin !== options.responseOrigin) return;
  fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
    signal: AbortSignal.timeout(5_000),
  }).then(
    (answer) => {
      if (!answer.ok) options.logger.warn({ status: answer.status }, 'Slack refused the reply to a clicker');
    },
    (error: unknown) => options.logger.warn({ error: (error as Error).name }, 'could not reply to a clicker in Slack'),
  );
}

function clickOf(
  raw: string,
): { decision: 'approve' | 'reject'; requestId: string; slackUserId: string; responseUrl?: string } | undefined {
  let payload: BlockActions;
  try {
    payload = JSON.parse(new URLSearchParams(raw).get('payload') ?? '') as BlockActions;
  } catch {
    return undefined;
  }
  const action = payload.actions?.[0];
  const slackUserId = payload.user?.id;
  if (payload.type !== 'block_actions' || !action || typeof slackUserId !== 'string') return undefined;
  const decision =
    action.action_id === SLACK_ACTIONS.approve
      ? 'approve'
      : action.action_id === SLACK_ACTIONS.reject
        ? 'reject'
        : undefined;
  if (!decision || typeof action.value !== 'string' || !REQUEST_ID_PATTERN.test(action.value)) return undefined;
  return { decision, requestId: action.value, slackUserId, responseUrl: payload.response_url };
}
