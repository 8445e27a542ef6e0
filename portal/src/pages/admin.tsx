import { useState } from 'preact/hooks';
import { api, listRequests, type components, unwrap } from '../api/client';
import { ErrorNote, Field, PageTitle } from '../ui';

type Report = components['schemas']['EmergencyRevokeReportDto'];

/**
 * The emergency stop: every active grant of a person and/or a resource ends now. A first step shows
 * what would end; the second, confirmed, ends it.
 */
export function AdminPage() {
  const [requesterId, setRequesterId] = useState('');
  const [resourceId, setResourceId] = useState('');
  const [reason, setReason] = useState('');
  const [matching, setMatching] = useState<number>();
  const [report, setReport] = useState<Report>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const target = {
    ...(requesterId.trim() ? { requesterId: requesterId.trim() } : {}),
    ...(resourceId.trim() ? { resourceId: resourceId.trim() } : {}),
  };

  const review = (event: Event) => {
    event.preventDefault();
    setReport(undefined);
    setError(undefined);
    if (!target.requesterId && !target.resourceId) {
      setError('Name a person, a resource or both.');
      return;
    }
    listRequests({
      status: 'ACTIVE',
      pageSize: 100,
      requester: target.requesterId,
      resourceId: target.resourceId,
    }).then(
      (page) => setMatching(page.items.length),
      (err: unknown) => setError((err as Error).message),
    );
  };

  const stop = () => {
    setBusy(true);
    unwrap(
      api.POST('/v1/admin/revoke', { body: { ...target, ...(reason.trim() ? { reason: reason.trim() } : {}) } }),
    ).then(
      (result) => {
        setBusy(false);
        setMatching(undefined);
        setReport(result);
      },
      (err: unknown) => {
        setBusy(false);
        setError((err as Error).message);
      },
    );
  };

  return (
    <>
      <PageTitle>Emergency stop</PageTitle>
      <p>Ends every active grant of a person, of a resource, or of a person on a resource, at once.</p>
      <form class="form" onSubmit={review}>
        <ErrorNote message={error} />
        <Field id="stop-person" label="Person (their subject id)">
          <input
            id="stop-person"
            value={requesterId}
            onInput={(event) => {
              setRequesterId(event.currentTarget.value);
              setMatching(undefined);
            }}
          />
        </Field>
        <Field id="stop-resource" label="Resource id">
          <input
            id="stop-resource"
            value={resourceId}
            onInput={(event) => {
              setResourceId(event.currentTarget.value);
              setMatching(undefined);
            }}
          />
        </Field>
        <Field id="stop-reason" label="Reason (recorded on every request)">
          <input id="stop-reason" value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
        </Field>
        <button type="submit">Review</button>
      </form>
      {matching !== undefined && (
        <section class="panel confirm" aria-labelledby="confirm-heading">
          <h2 id="confirm-heading">Confirm</h2>
          <p role="status">
            {matching === 0
              ? 'No active grant matches now.'
              : `${matching}${matching === 100 ? ' or more' : ''} active grant${matching === 1 ? '' : 's'} will end now.`}
          </p>
          {matching > 0 && (
            <button type="button" class="danger" disabled={busy} onClick={stop}>
              {busy ? 'Ending…' : `End ${matching === 1 ? 'it' : 'them'} now`}
            </button>
          )}
        </section>
      )}
      {report && (
        <section class="panel" aria-labelledby="report-heading">
          <h2 id="report-heading">Done</h2>
          <p role="status">
            {report.revoked} of {report.matched} revoked.
          </p>
          <ul class="rows">
            {report.results.map((result) => (
              <li key={result.requestId} class="row">
                <code>{result.requestId}</code>
                <span>{result.outcome}</span>
                <span class="hint">{result.status ?? result.code ?? ''}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
