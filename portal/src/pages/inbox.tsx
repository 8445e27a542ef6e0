import { api, listRequests, type RequestState, unwrap } from '../api/client';
import { msText, relativeText, timeText } from '../format';
import { Link } from '../router';
import type { Session } from '../session';
import { AskFacts } from '../parts/ask-facts';
import { DecisionForm } from '../parts/decision';
import { ErrorNote, PageTitle, StatusBadge, useLoaded } from '../ui';

/** What waits for my approval now, with what an approver needs to decide, refreshed every few seconds. */
export function InboxPage({ session }: { session: Session }) {
  const waiting = useLoaded(
    async () => {
      const page = await listRequests({ pendingMyApproval: true, pageSize: 50 });
      return Promise.all(
        page.items.map((item) => unwrap(api.GET('/v1/requests/{id}', { params: { path: { id: item.requestId } } }))),
      );
    },
    [],
    5000,
  );
  const decided = useLoaded(() => listRequests({ decidedByMe: true, pageSize: 20 }), [], 10_000);
  const afterDecision = () => {
    waiting.reload();
    decided.reload();
  };
  return (
    <>
      <PageTitle>Inbox</PageTitle>
      <p>Requests that wait for your approval, {session.person.name ?? session.person.id}.</p>
      <ErrorNote message={waiting.error} />
      {waiting.loading && <p aria-busy="true">Loading…</p>}
      {waiting.data?.length === 0 && <p>Nothing waits for you.</p>}
      <ul class="cards" aria-live="polite">
        {waiting.data?.map((request) => (
          <li key={request.requestId} class="card">
            <Waiting request={request} decided={afterDecision} />
          </li>
        ))}
      </ul>
      <section aria-labelledby="decided-heading">
        <h2 id="decided-heading">Decided by you</h2>
        <ErrorNote message={decided.error} />
        {decided.data?.items.length === 0 && <p>You have not decided anything yet.</p>}
        <ul class="rows">
          {decided.data?.items.map((item) => (
            <li key={item.requestId} class="row">
              <Link href={`/requests/${encodeURIComponent(item.requestId)}`}>
                {item.resourceId} for {item.requesterId}
              </Link>
              <StatusBadge status={item.status} />
              <span class="hint">asked {timeText(item.startedAt)}</span>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function Waiting({ request, decided }: { request: RequestState; decided: () => void }) {
  const headingId = `waiting-${request.requestId}`;
  // An extension is approved afresh: its own approvals count, not the request's.
  const approvals = request.pendingExtension?.approvals ?? request.approvals;
  return (
    <article aria-labelledby={headingId}>
      <h2 id={headingId}>
        <Link href={`/requests/${encodeURIComponent(request.requestId)}`}>
          {request.requesterId} asks for {request.resourceId}
          {request.pendingExtension ? ': more time' : ''}
        </Link>
      </h2>
      <dl class="facts">
        <AskFacts request={request} />
        {request.pendingExtension && (
          <>
            <dt>Extension</dt>
            <dd>{msText(request.pendingExtension.addedMs)} more</dd>
          </>
        )}
        <dt>Tier</dt>
        <dd>
          {request.currentTier + 1}, {approvals.length} of {request.approvalsRequired} approvals
        </dd>
        {approvals.length > 0 && (
          <>
            <dt>Approved by</dt>
            <dd>{approvals.map((approval) => approval.approverId).join(', ')}</dd>
          </>
        )}
        {request.pendingDeadline && (
          <>
            <dt>Decide by</dt>
            <dd>
              {timeText(request.pendingDeadline)} ({relativeText(request.pendingDeadline)})
            </dd>
          </>
        )}
      </dl>
      <DecisionForm request={request} decided={decided} />
    </article>
  );
}
