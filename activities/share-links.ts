import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { expiryBucketFor } from '../domain/share-links';
import { OnePasswordError } from '../onepassword/port';
import { callOnePassword } from './failures';
import { heartbeating } from './heartbeat';
import type { ActivityContext } from './context';
import { GRANT_REFUSED_FAILURE, type ShareLinkGrantInput, type ShareLinkGrantResult } from './types';

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
  creatingSince?: number;
  link?: ShareLinkGrantResult;
}

/**
 * A share link for the requester: the shortest bucket covering the duration, refused when the account
 * maximum is shorter. Idempotent across attempts: an attempt that finds the link an earlier one made
 * returns it, and one that finds an earlier attempt still creating waits it out before writing.
 */
export function shareLinkActivities({ onePassword, log }: ActivityContext) {
  return {
    async createShareLink(input: ShareLinkGrantInput): Promise<ShareLinkGrantResult> {
      const context = Context.current();
      const earlier = context.info.heartbeatDetails as ShareProgress | undefined;
      if (earlier?.link) return earlier.link;
      if (earlier?.creatingSince) await waitOut(earlier);

      const port = onePassword(input.integration);
      const policy = await callOnePassword(() => port.getSharePolicy(input.vaultId, input.itemId));
      const bucket = expiryBucketFor(input.durationMs, policy.maxExpiry);
      if (!bucket.ok) {
        throw ApplicationFailure.create({ type: GRANT_REFUSED_FAILURE, message: bucket.reason, nonRetryable: true });
      }
      // Asked to stop (the request was withdrawn or revoked) before anything was written: nothing to undo.
      if (context.cancellationSignal.aborted) throw new CancelledFailure('the grant was stopped before any write');

      const progress: ShareProgress = { creatingSince: Date.now() };
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
                idempotencyKey: input.idempotencyKey,
              }),
            ),
          ),
        progress,
      );
      const link = { url: created.url, bucket: bucket.value, expiresAt: created.expiresAt };
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
