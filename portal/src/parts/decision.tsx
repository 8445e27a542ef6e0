import { useState } from 'preact/hooks';
import { api, type RequestState, unwrap } from '../api/client';
import { ErrorNote } from '../ui';

/** Approve or reject, with a comment the requester and the auditors read. */
export function DecisionForm({ request, decided }: { request: RequestState; decided: (state: RequestState) => void }) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'approve' | 'reject'>();
  const [error, setError] = useState<string>();
  const id = `comment-${request.requestId}`;
  const decide = (verb: 'approve' | 'reject') => {
    setBusy(verb);
    setError(undefined);
    const options = {
      params: { path: { id: request.requestId } },
      body: comment.trim() ? { comment: comment.trim() } : {},
    };
    const call =
      verb === 'approve'
        ? api.POST('/v1/requests/{id}/approve', options)
        : api.POST('/v1/requests/{id}/reject', options);
    unwrap(call).then(decided, (err: unknown) => {
      setBusy(undefined);
      setError((err as Error).message);
    });
  };
  return (
    <form class="decision" onSubmit={(event) => event.preventDefault()}>
      <ErrorNote message={error} />
      <div class="field">
        <label for={id}>Comment (optional)</label>
        <textarea id={id} rows={2} value={comment} onInput={(event) => setComment(event.currentTarget.value)} />
      </div>
      <div class="actions">
        <button type="button" disabled={busy !== undefined} onClick={() => decide('approve')}>
          {busy === 'approve' ? 'Approving…' : 'Approve'}
        </button>
        <button type="button" class="danger" disabled={busy !== undefined} onClick={() => decide('reject')}>
          {busy === 'reject' ? 'Rejecting…' : 'Reject'}
        </button>
      </div>
    </form>
  );
}
