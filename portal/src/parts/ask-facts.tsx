import type { RequestState } from '../api/client';
import { msText } from '../format';

/** What the requester asked: for how long, why, and the ticket (terms and values for a `<dl>`). */
export function AskFacts({ request }: { request: RequestState }) {
  return (
    <>
      <dt>For</dt>
      <dd>{msText(request.durationMs)}</dd>
      <dt>Why</dt>
      <dd>{request.justification || '—'}</dd>
      {request.ticket && (
        <>
          <dt>Ticket</dt>
          <dd>{request.ticket}</dd>
        </>
      )}
    </>
  );
}
