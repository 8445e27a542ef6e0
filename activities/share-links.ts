import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { GRANT_REFUSED_FAILURE } from '../contracts/messages';
import { expiryBucketFor } from '../domain/share-links';
import { OnePasswordError, type OnePasswordErrorKind, type ShareLink } from '../onepassword/port';
import { callOnePassword, toActivityFailure } from './failures';
import { AcknowledgedHeartbeat } from './heartbeat';
import type { ActivityContext } from './context';
import type { ShareLinkGrantInput, ShareLinkGrantResult } from './types';

/**
 * The longest one attempt's call to create a link may take. A later attempt that finds an earlier one
 * still creating waits this long after the earlier one began, so that two attempts never write at once.
 */
export const SHARE_CALL_DEADLINE_MS = 30_000;

/** A read of the item's share policy longer than this would take too much of the write's deadline. */
export const SLOW_READ_MS = 1_000;

/**
 * What an attempt leaves for the next one in its heartbeat details, which Temporal keeps across attempts
 * and worker hosts (and the codec encrypts, since they may hold the link). Each is acknowledged by the
 * server before the attempt goes on (`AcknowledgedHeartbeat`).
 */
interface ShareProgress {
  /** When this attempt's call to create a link began; set only while that call may be writing. */
  creatingSince?: number;
  /** Earlier calls whose answer never arrived (see `ShareLinkGrantResult.unreceivedLinks`). */
  unreceived?: number;
  link?: ShareLinkGrantResult;
}

/** Failures in which 1Password refused the call: it wrote nothing, so no link can have been made. */
const REFUSED_UNWRITTEN: ReadonlySet<OnePasswordErrorKind> = new Set([
  'rate-limited',
  'auth',
  'forbidden',
  'not-found',
  'invalid-argument',
  'policy-refused',
]);

/**
 * A share link for the requester: the shortest bucket covering the duration, refused when the account
 * maximum is shorter. Idempotent across attempts and worker hosts as far as 1Password allows: an attempt
 * that finds the link an earlier one made returns it, and one that finds an earlier attempt still
 * creating waits it out before writing. 1Password can neither list nor withdraw links and takes no
 * idempotency key, so a call whose answer was lost (a failure after the write, a time-out, a worker that
 * died) may have made a link nobody received: the attempt that saw it fail, or else the next attempt,
 * counts it.
 */
export function shareLinkActivities({ onePassword, temporal, log }: ActivityContext) {
  return {
    async createShareLink(input: ShareLinkGrantInput): Promise<ShareLinkGrantResult> {
      if (!temporal) throw new Error('createShareLink records its progress through a Temporal client: none was given');
      const context = Context.current();
      const earlier = context.info.heartbeatDetails as ShareProgress | undefined;
      if (earlier?.link) return earlier.link;
      const progress = new AcknowledgedHeartbeat<ShareProgress>(temporal, context.info.taskToken, earlier);
      let unreceived = (earlier?.unreceived ?? 0) + (earlier?.creatingSince ? 1 : 0);
      if (earlier?.creatingSince) {
        await waitOut(progress, earlier.creatingSince);
        log('an earlier attempt to create a share link got no answer', { step: input.idempotencyKey, unreceived });
      }
      // From here on the earlier call is counted, not pending: an attempt after this one must not count it again.
      if (unreceived > 0) await progress.record({ unreceived });

      const port = onePassword(input.integration);
      // The server holds the time the write may begin before the write, but it need not wait for the read: the two
      // go at once. A read that fails takes that time back, so that the next attempt neither waits nor counts a
      // link (should taking it back fail too, the next attempt waits and counts one it cannot rule out).
      let creatingSince = Date.now();
      const [policy] = await Promise.all([
        progress
          .during(() => callOnePassword(() => port.getSharePolicy(input.vaultId, input.itemId)))
          .catch(async (error: unknown) => {
            await progress.record({ unreceived }).catch(() => undefined);
            throw error;
          }),
        progress.record({ creatingSince, unreceived }),
      ]);
      // The write's deadline counts from that time: after a slow read the time is recorded again, so that the
      // write keeps its whole deadline.
      if (Date.now() - creatingSince > SLOW_READ_MS) {
        creatingSince = Date.now();
        await progress.record({ creatingSince, unreceived });
      }
      const bucket = expiryBucketFor(input.durationMs, policy.maxExpiry);
      if (!bucket.ok) {
        throw ApplicationFailure.create({ type: GRANT_REFUSED_FAILURE, message: bucket.reason, nonRetryable: true });
      }
      // Asked to stop (the request was withdrawn or revoked) before anything was written: nothing to undo.
      if (progress.stopRequested || context.cancellationSignal.aborted) {
        throw new CancelledFailure('the grant was stopped before any write');
      }

      let created: ShareLink;
      try {
        created = await progress.during(() =>
          withDeadline(
            port.createShareLink({
              vaultId: input.vaultId,
              itemId: input.itemId,
              recipients: [input.recipientEmail],
              expiry: bucket.value,
              oneTimeOnly: input.oneTimeView || policy.oneTimeOnly,
              reference: input.idempotencyKey,
            }),
            creatingSince,
          ),
        );
      } catch (error) {
        // Answered: the call is over, and a link it may have made before failing is counted now, so that the
        // next attempt need not wait. A time-out may still be writing: the next attempt waits it out.
        const kind = error instanceof OnePasswordError ? error.kind : undefined;
        if (kind !== 'timeout') {
          if (!(kind && REFUSED_UNWRITTEN.has(kind))) unreceived += 1;
          await progress.record({ unreceived }).catch(() => undefined);
        }
        throw toActivityFailure(error);
      }
      const link: ShareLinkGrantResult = { url: created.url, bucket: bucket.value, expiresAt: created.expiresAt };
      if (unreceived > 0) link.unreceivedLinks = unreceived;
      // Should this attempt's answer be lost (the worker dies now), the next attempt returns this link. Not awaited:
      // the answer goes to the server at the same time, and when it lands first the record has no one to serve.
      // Should both be lost, the next attempt counts the link as unreceived, as for any call whose answer was lost.
      progress.record({ link }).catch(() => undefined);
      log('share link created', { step: input.idempotencyKey, itemId: input.itemId, bucket: bucket.value });
      return link;
    },
  };
}

/** Waits until an earlier attempt's call can no longer be writing, still passing its progress on. */
async function waitOut(progress: AcknowledgedHeartbeat<ShareProgress>, creatingSince: number): Promise<void> {
  const remaining = creatingSince + SHARE_CALL_DEADLINE_MS - Date.now();
  if (remaining > 0) await progress.during(() => sleep(remaining));
}

/** A call that has not answered by its deadline (counted from `since`) counts as timed out, and the attempt is retried. */
async function withDeadline<T>(call: Promise<T>, since: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OnePasswordError('timeout', '1Password did not answer in time')),
      since + SHARE_CALL_DEADLINE_MS - Date.now(),
    );
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
