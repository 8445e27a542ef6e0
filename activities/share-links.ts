import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { GRANT_REFUSED_FAILURE } from '../contracts/messages';
import { expiryBucketFor } from '../domain/share-links';
import { OnePasswordError } from '../onepassword/port';
import { callOnePassword } from './failures';
import { heartbeating } from './heartbeat';
import type { ActivityContext } from './context';
import type { ShareLinkGrantInput, ShareLinkGrantResult } from './types';

/**
 * The longest one attempt's call to create a link may take. A later attempt that finds an earlier one
 * still creating waits this long after the earlier one began, so that two attempts never write at once.
 */
export const SHARE_CALL_DEADLINE_MS = 30_000;

/**
 * What an attempt leaves for the next one in its heartbeat details, which Temporal keeps across
 * attempts and worker hosts (and the codec encrypts, since it holds the link).
 */
interface ShareProgress {
  /** When this attempt's call to create a link began; set only while that call may be writing. */
  creatingSince?: number;
  /** Earlier calls whose answer never arrived (see `ShareLinkGrantResult.unreceivedLinks`). */
  unreceived?: number;
  link?: ShareLinkGrantResult;
}

/**
 * A share link for the requester: the shortest bucket covering the duration, refused when the account
 * maximum is shorter. Idempotent across attempts and worker hosts as far as 1Password allows: an attempt
 * that finds the link an earlier one made returns it, and one that finds an earlier attempt still
 * creating waits it out before writing. 1Password can neither list nor withdraw links and takes no
 * idempotency key, so a call whose answer was lost (a time-out after the write, a worker that died
 * before its heartbeat) may have made a link nobody received; the next attempt counts it.
 */
export function shareLinkActivities({ onePassword, log }: ActivityContext) {
  return {
    async createShareLink(input: ShareLinkGrantInput): Promise<ShareLinkGrantResult> {
      const context = Context.current();
      const earlier = context.info.heartbeatDetails as ShareProgress | undefined;
      if (earlier?.link) return earlier.link;
      const unreceived = (earlier?.unreceived ?? 0) + (earlier?.creatingSince ? 1 : 0);
      if (earlier?.creatingSince) {
        await waitOut(earlier);
        log('an earlier attempt to create a share link got no answer', { step: input.idempotencyKey, unreceived });
      }
      // From here on the earlier call is counted, not pending: an attempt after this one must not count it again.
      if (unreceived > 0) context.heartbeat({ unreceived } satisfies ShareProgress);

      const port = onePassword(input.integration);
      const policy = await callOnePassword(() => port.getSharePolicy(input.vaultId, input.itemId));
      const bucket = expiryBucketFor(input.durationMs, policy.maxExpiry);
      if (!bucket.ok) {
        throw ApplicationFailure.create({ type: GRANT_REFUSED_FAILURE, message: bucket.reason, nonRetryable: true });
      }
      // Asked to stop (the request was withdrawn or revoked) before anything was written: nothing to undo.
      if (context.cancellationSignal.aborted) throw new CancelledFailure('the grant was stopped before any write');

      const progress: ShareProgress = { creatingSince: Date.now(), unreceived };
      const created = await heartbeating(
        () =>
          callOnePassword(() =>
            withDeadline(
              port.createShareLink({
                vaultId: input.vaultId,
                itemId: input.itemId,
                recipients: [input.recipientEmail],
                expiry: bucket.value,
                oneTimeOnly: input.oneTimeView || policy.oneTimeOnly,
                reference: input.idempotencyKey,
              }),
            ),
          ),
        progress,
      );
      const link: ShareLinkGrantResult = { url: created.url, bucket: bucket.value, expiresAt: created.expiresAt };
      if (unreceived > 0) link.unreceivedLinks = unreceived;
      // Should this attempt's answer be lost (the worker dies now), the next attempt returns this link.
      context.heartbeat({ link } satisfies ShareProgress);
      log('share link created', { step: input.idempotencyKey, itemId: input.itemId, bucket: bucket.value });
      return link;
    },
  };
}

/** Waits until an earlier attempt's call can no longer be writing, still passing its progress on. */
async function waitOut(earlier: ShareProgress): Promise<void> {
  const remaining = (earlier.creatingSince ?? 0) + SHARE_CALL_DEADLINE_MS - Date.now();
  if (remaining > 0) await heartbeating(() => sleep(remaining), earlier);
}

/** A call that has not answered by the deadline counts as timed out (and the attempt is retried). */
async function withDeadline<T>(call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OnePasswordError('timeout', '1Password did not answer in time')),
      SHARE_CALL_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
