import { useState } from 'preact/hooks';
import { api, type GrantAccess, type RequestState, unwrap } from '../api/client';
import { durationText, minutesToIso, msText, OPEN_STATUSES, relativeText, timeText } from '../format';
import { Link } from '../router';
import type { Session } from '../session';
import { AskFacts } from '../parts/ask-facts';
import { DecisionForm } from '../parts/decision';
import { Timeline } from '../parts/timeline';
import { ErrorNote, Notice, PageTitle, StatusBadge, useLoaded } from '../ui';

/** One request: its state, live while it is open, what the caller may do with it, and its timeline. */
export function RequestPage({ requestId, session }: { requestId: string; session: Session }) {
  const [override, setOverride] = useState<RequestState>();
  const state = useLoaded(
    () => unwrap(api.GET('/v1/requests/{id}', { params: { path: { id: requestId } } })),
    [requestId],
    3000,
    (loaded) => OPEN_STATUSES.has(loaded.status),
  );
  const request = pickNewer(state.data, override);
  if (!request) {
    return (
      <>
        <PageTitle>Request</PageTitle>
        <ErrorNote message={state.error} />
        {state.loading && <p aria-busy="true">Loading…</p>}
      </>
    );
  }
  const mine = request.requesterId === session.person.id;
  // An approver decides a pending request, or an extension that waits for approval (domain/request-rules.ts).
  const awaitsDecision =
    request.status === 'PENDING_APPROVAL' ||
    (request.status === 'ACTIVE' && !!request.pendingExtension && !request.pendingExtension.makingLinkSince);
  const changed = (next: RequestState) => {
    setOverride(next);
    state.reload();
  };
  return (
    <>
      <PageTitle>
        {request.resourceId} <span class="hint">requested by {mine ? 'you' : request.requesterId}</span>
      </PageTitle>
      <p aria-live="polite">
        <StatusBadge status={request.status} />
        {request.status === 'ACTIVE' && request.grant && (
          <span class="hint"> until {timeText(request.grant.endsAt)}</span>
        )}
      </p>
      <ErrorNote message={state.error} />
      <Facts request={request} />
      {mine && request.status === 'ACTIVE' && <GrantPanel request={request} changed={changed} />}
      {mine && request.status === 'PENDING_APPROVAL' && <EndForm request={request} verb="cancel" changed={changed} />}
      {!mine && awaitsDecision && (
        <section aria-labelledby="decide-heading">
          <h2 id="decide-heading">Your decision</h2>
          <DecisionForm request={request} decided={changed} />
        </section>
      )}
      <Timeline requestId={request.requestId} refreshKey={`${request.status}:${request.updatedAt}`} />
      <p>
        <Link href={mine ? '/requests' : '/inbox'}>{mine ? '← My requests' : '← Inbox'}</Link>
      </p>
    </>
  );
}

/** The state the page shows: an action's answer until the next poll catches up with it. */
function pickNewer(polled: RequestState | undefined, acted: RequestState | undefined): RequestState | undefined {
  if (!acted || acted.requestId !== polled?.requestId) return polled ?? acted;
  return new Date(acted.updatedAt) > new Date(polled.updatedAt) ? acted : polled;
}

function Facts({ request }: { request: RequestState }) {
  return (
    <dl class="facts">
      <dt>Request</dt>
      <dd>
        <code>{request.requestId}</code>
      </dd>
      <dt>Flow</dt>
      <dd>
        {request.flowName} (policy {request.policyVersion})
      </dd>
      <AskFacts request={request} />
      <dt>Asked</dt>
      <dd>{timeText(request.requestedAt)}</dd>
      {request.status === 'PENDING_APPROVAL' && request.pendingDeadline && (
        <>
          <dt>Decide by</dt>
          <dd>
            {timeText(request.pendingDeadline)} ({relativeText(request.pendingDeadline)})
          </dd>
        </>
      )}
      <dt>Approvals</dt>
      <dd>
        {request.approvals.length} of {request.approvalsRequired}
        {request.approvals.length > 0 &&
          `: ${request.approvals.map((approval) => `${approval.approverId}${approval.comment ? ` (“${approval.comment}”)` : ''}`).join(', ')}`}
      </dd>
      {request.scheduledStart && (
        <>
          <dt>Starts</dt>
          <dd>{timeText(request.scheduledStart)}</dd>
        </>
      )}
      {request.breakGlass && (
        <>
          <dt>Break-glass</dt>
          <dd>
            {request.breakGlass.ratification
              ? `ratified by ${request.breakGlass.ratification.by}`
              : request.breakGlass.refusal
                ? `not ratified (${request.breakGlass.refusal.by})`
                : `to be ratified by ${timeText(request.breakGlass.ratifyBy)}`}
          </dd>
        </>
      )}
      {request.grant && (
        <>
          <dt>Granted</dt>
          <dd>
            {timeText(request.grant.grantedAt)}, ends {timeText(request.grant.endsAt)}
          </dd>
          <dt>Guarantee</dt>
          <dd>{request.grant.guarantee.statement}</dd>
        </>
      )}
      {request.pendingExtension && (
        <>
          <dt>Extension asked</dt>
          <dd>
            {msText(request.pendingExtension.addedMs)} more, by {request.pendingExtension.requestedBy},{' '}
            {request.pendingExtension.makingLinkSince
              ? 'approved, being applied'
              : `waiting for approval (${request.pendingExtension.approvals.length} so far)`}
          </dd>
        </>
      )}
      {request.ending && (
        <>
          <dt>Ending</dt>
          <dd>
            since {timeText(request.ending.since)}
            {request.ending.alertedAt ? `; admins alerted ${timeText(request.ending.alertedAt)}` : ''}
          </dd>
        </>
      )}
      {request.extensions.map((extension) => (
        <>
          <dt>Extended</dt>
          <dd>
            by {extension.by}, {msText(extension.addedMs)} more, to {timeText(extension.newEndsAt)}
          </dd>
        </>
      ))}
      {[
        ['Rejected', request.rejection],
        ['Withdrawn', request.cancellation],
        ['Ended early', request.revocation],
      ].map(([label, record]) =>
        record && typeof record === 'object' ? (
          <>
            <dt>{label}</dt>
            <dd>
              by {record.by}, {timeText(record.at)}
              {record.comment ? `: “${record.comment}”` : ''}
            </dd>
          </>
        ) : null,
      )}
      {request.failure && (
        <>
          <dt>Failure</dt>
          <dd>{request.failure.message}</dd>
        </>
      )}
    </dl>
  );
}

/** The grant, shown only on a click (the share link is a secret), extend, and give back. */
function GrantPanel({ request, changed }: { request: RequestState; changed: (state: RequestState) => void }) {
  const [grant, setGrant] = useState<GrantAccess>();
  const [error, setError] = useState<string>();
  const show = () =>
    unwrap(api.GET('/v1/requests/{id}/grant', { params: { path: { id: request.requestId } } })).then(
      setGrant,
      (err: unknown) => setError((err as Error).message),
    );
  return (
    <section aria-labelledby="grant-heading" class="panel">
      <h2 id="grant-heading">Your access</h2>
      <ErrorNote message={error} />
      {grant ? (
        <dl class="facts">
          {grant.shareUrl && (
            <>
              <dt>Share link</dt>
              <dd>
                <a href={grant.shareUrl} target="_blank" rel="noreferrer noopener">
                  Open the item in 1Password
                </a>
              </dd>
            </>
          )}
          {grant.vaultId && (
            <>
              <dt>Vault</dt>
              <dd>
                <code>{grant.vaultId}</code>
              </dd>
            </>
          )}
          {grant.databaseRole && (
            <>
              <dt>Database login</dt>
              <dd>
                <code>{grant.databaseRole}</code>
              </dd>
            </>
          )}
          {grant.accessDetails && (
            <>
              <dt>Access details</dt>
              <dd>{grant.accessDetails}</dd>
            </>
          )}
          <dt>Promise</dt>
          <dd>{grant.guarantee.statement}</dd>
        </dl>
      ) : (
        <button type="button" onClick={() => void show()}>
          Show access
        </button>
      )}
      <ExtendForm request={request} changed={changed} />
      <EndForm request={request} verb="revoke" changed={changed} />
    </section>
  );
}

const EXTENSIONS = [15, 30, 60, 120, 240];

function ExtendForm({ request, changed }: { request: RequestState; changed: (state: RequestState) => void }) {
  const [minutes, setMinutes] = useState(60);
  const [justification, setJustification] = useState('');
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    unwrap(
      api.POST('/v1/requests/{id}/extend', {
        params: { path: { id: request.requestId } },
        body: {
          duration: minutesToIso(minutes),
          ...(justification.trim() ? { justification: justification.trim() } : {}),
        },
      }),
    ).then(
      (state) => {
        setBusy(false);
        setNotice(
          state.grant && state.grant.endsAt !== request.grant?.endsAt
            ? `Extended: access now ends ${timeText(state.grant.endsAt)}.`
            : 'Extension asked for: it waits for approval.',
        );
        changed(state);
      },
      (err: unknown) => {
        setBusy(false);
        setError((err as Error).message);
      },
    );
  };
  return (
    <form class="form inline" onSubmit={submit}>
      <h3>Need more time?</h3>
      <ErrorNote message={error} />
      <Notice message={notice} />
      <div class="field">
        <label for="extend-by">Extend by</label>
        <select
          id="extend-by"
          value={String(minutes)}
          onChange={(event) => setMinutes(Number(event.currentTarget.value))}
        >
          {EXTENSIONS.map((choice) => (
            <option key={choice} value={String(choice)}>
              {durationText(`PT${choice}M`)}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="extend-why">Why (optional)</label>
        <input id="extend-why" value={justification} onInput={(event) => setJustification(event.currentTarget.value)} />
      </div>
      <button type="submit" disabled={busy}>
        Extend
      </button>
    </form>
  );
}

/** Give access back early (revoke) or withdraw a request nobody decided yet (cancel), after a confirmation. */
function EndForm({
  request,
  verb,
  changed,
}: {
  request: RequestState;
  verb: 'revoke' | 'cancel';
  changed: (state: RequestState) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string>();
  const label = verb === 'revoke' ? 'Give access back now' : 'Withdraw this request';
  const end = () => {
    const options = { params: { path: { id: request.requestId } }, body: {} };
    unwrap(
      verb === 'revoke' ? api.POST('/v1/requests/{id}/revoke', options) : api.POST('/v1/requests/{id}/cancel', options),
    ).then(changed, (err: unknown) => setError((err as Error).message));
  };
  return (
    <div class="end">
      <ErrorNote message={error} />
      {confirming ? (
        <div role="group" aria-label="Confirm">
          <p>
            {verb === 'revoke'
              ? 'Access ends now and cannot be resumed.'
              : 'Nobody will be asked to approve it any more.'}
          </p>
          <button type="button" class="danger" onClick={end}>
            Yes, {label.toLowerCase()}
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          {label}
        </button>
      )}
    </div>
  );
}
