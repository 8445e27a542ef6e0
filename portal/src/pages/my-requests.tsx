import { listRequests } from '../api/client';
import { relativeText, timeText } from '../format';
import { Link } from '../router';
import { ErrorNote, PageTitle, StatusBadge, useLoaded } from '../ui';

/** My requests, newest first, refreshed every few seconds. */
export function MyRequestsPage() {
  const page = useLoaded(() => listRequests({ mine: true, pageSize: 50 }), [], 4000);
  return (
    <>
      <PageTitle>My requests</PageTitle>
      <ErrorNote message={page.error} />
      {page.loading && <p aria-busy="true">Loading…</p>}
      {page.data?.items.length === 0 && (
        <p>
          You have asked for nothing yet. <Link href="/">Request access</Link>
        </p>
      )}
      <ul class="rows" aria-live="polite">
        {page.data?.items.map((item) => (
          <li key={item.requestId} class="row">
            <Link href={`/requests/${encodeURIComponent(item.requestId)}`}>{item.resourceId ?? item.requestId}</Link>
            <StatusBadge status={item.status} />
            <span class="hint">
              asked {timeText(item.startedAt)}
              {item.status === 'ACTIVE' && item.grantEndsAt ? `, ends ${relativeText(item.grantEndsAt)}` : ''}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}
