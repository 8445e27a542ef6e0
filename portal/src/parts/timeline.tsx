import { api, unwrap } from '../api/client';
import { timeText } from '../format';
import { ErrorNote, useLoaded } from '../ui';
import { download } from './download';

/** Who did what, when and why: the API reads it from the workflow's history. */
export function Timeline({ requestId, refreshKey }: { requestId: string; refreshKey: string }) {
  const timeline = useLoaded(
    () => unwrap(api.GET('/v1/requests/{id}/audit', { params: { path: { id: requestId } } })),
    [requestId, refreshKey],
  );
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      <ErrorNote message={timeline.error} />
      {timeline.loading && <p aria-busy="true">Loading…</p>}
      <ol class="timeline">
        {timeline.data?.entries.map((entry) => (
          <li key={entry.eventId}>
            <time dateTime={entry.at}>{timeText(entry.at, true)}</time>
            <span>{entry.summary}</span>
          </li>
        ))}
      </ol>
      {timeline.data && (
        <p>
          <button
            type="button"
            class="link-button"
            onClick={() =>
              download(`${requestId}-timeline.json`, 'application/json', JSON.stringify(timeline.data, null, 2))
            }
          >
            Export the timeline (JSON)
          </button>
        </p>
      )}
    </section>
  );
}
