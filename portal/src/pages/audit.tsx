import { useState } from 'preact/hooks';
import { type ListQuery, listRequests, type RequestStatus, type RequestSummary } from '../api/client';
import { statusText, timeText } from '../format';
import { download } from '../parts/download';
import { Link, navigate } from '../router';
import { ErrorNote, Field, PageTitle, StatusBadge, useLoaded } from '../ui';

const STATUSES: RequestStatus[] = [
  'PENDING_APPROVAL',
  'APPROVED',
  'ACTIVE',
  'ENDING',
  'EXPIRED',
  'REVOKED',
  'REJECTED',
  'CANCELLED',
  'TIMED_OUT',
  'FAILED',
];
/** An export reads at most this many requests (ten pages): enough for a review, bounded for the API. */
const EXPORT_LIMIT = 1000;

type Search = Pick<ListQuery, 'requester' | 'resourceId' | 'status' | 'requestedAfter' | 'requestedBefore'>;

/** The search lives in the address, so that a result can be bookmarked and shared. */
function searchOf(query: URLSearchParams): Search {
  const pick = (name: string) => query.get(name) || undefined;
  return {
    requester: pick('requester'),
    resourceId: pick('resourceId'),
    status: pick('status') as RequestStatus | undefined,
    requestedAfter: pick('requestedAfter'),
    requestedBefore: pick('requestedBefore'),
  };
}

function queryOf(search: Search): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(search)) if (value) params.set(name, value);
  return params.toString();
}

/** A datetime-local value (the browser's time zone) as the instant the API takes. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function localValue(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

async function fetchPage(search: Search, pageToken?: string) {
  return listRequests({ ...search, pageSize: 100, pageToken });
}

/** Search every request by person, resource, status and time; open one for its timeline; export. */
export function AuditPage({ query }: { query: URLSearchParams }) {
  const search = searchOf(query);
  const key = queryOf(search);
  const [draft, setDraft] = useState<Search>(search);
  const [more, setMore] = useState<{ key: string; items: RequestSummary[]; next?: string }>();
  const [exporting, setExporting] = useState(false);
  const [error, setError] = useState<string>();
  const first = useLoaded(() => fetchPage(search), [key]);
  const extra = more?.key === key ? more : undefined;
  const items = [...(first.data?.items ?? []), ...(extra?.items ?? [])];
  const next = extra ? extra.next : first.data?.nextPageToken;

  const submit = (event: Event) => {
    event.preventDefault();
    const params = queryOf(draft);
    navigate(`/audit${params ? `?${params}` : ''}`);
  };
  const loadMore = () =>
    fetchPage(search, next).then(
      (page) => setMore({ key, items: [...(extra?.items ?? []), ...page.items], next: page.nextPageToken }),
      (err: unknown) => setError((err as Error).message),
    );
  const exportAll = async (format: 'csv' | 'json') => {
    setExporting(true);
    try {
      const all: RequestSummary[] = [];
      let token: string | undefined;
      do {
        const page = await fetchPage(search, token);
        all.push(...page.items);
        token = page.nextPageToken;
      } while (token && all.length < EXPORT_LIMIT);
      const name = `latchkey-requests-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}`;
      if (format === 'json') download(`${name}.json`, 'application/json', JSON.stringify(all, null, 2));
      else download(`${name}.csv`, 'text/csv', toCsv(all));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setExporting(false);
    }
  };

  return (
    <>
      <PageTitle>Audit</PageTitle>
      <form class="form search" onSubmit={submit} aria-label="Search requests">
        <Field id="search-person" label="Person">
          <input
            id="search-person"
            value={draft.requester ?? ''}
            onInput={(event) => setDraft({ ...draft, requester: event.currentTarget.value || undefined })}
          />
        </Field>
        <Field id="search-resource" label="Resource">
          <input
            id="search-resource"
            value={draft.resourceId ?? ''}
            onInput={(event) => setDraft({ ...draft, resourceId: event.currentTarget.value || undefined })}
          />
        </Field>
        <Field id="search-status" label="Status">
          <select
            id="search-status"
            value={draft.status ?? ''}
            onChange={(event) =>
              setDraft({ ...draft, status: (event.currentTarget.value || undefined) as RequestStatus })
            }
          >
            <option value="">Any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {statusText(status)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="search-after" label="Asked after">
          <input
            id="search-after"
            type="datetime-local"
            value={localValue(draft.requestedAfter)}
            onInput={(event) => setDraft({ ...draft, requestedAfter: instant(event.currentTarget.value) })}
          />
        </Field>
        <Field id="search-before" label="Asked before">
          <input
            id="search-before"
            type="datetime-local"
            value={localValue(draft.requestedBefore)}
            onInput={(event) => setDraft({ ...draft, requestedBefore: instant(event.currentTarget.value) })}
          />
        </Field>
        <button type="submit">Search</button>
      </form>
      <ErrorNote message={first.error ?? error} />
      {first.loading && <p aria-busy="true">Searching…</p>}
      {first.data && (
        <section aria-labelledby="results-heading">
          <h2 id="results-heading">
            {items.length}
            {next ? '+' : ''} request{items.length === 1 ? '' : 's'}
          </h2>
          <div class="actions">
            <button
              type="button"
              class="secondary"
              disabled={exporting || items.length === 0}
              onClick={() => void exportAll('csv')}
            >
              Export CSV
            </button>
            <button
              type="button"
              class="secondary"
              disabled={exporting || items.length === 0}
              onClick={() => void exportAll('json')}
            >
              Export JSON
            </button>
          </div>
          <ul class="rows">
            {items.map((item) => (
              <li key={item.requestId} class="row">
                <Link href={`/requests/${encodeURIComponent(item.requestId)}`}>
                  {item.requesterId} · {item.resourceId}
                </Link>
                <StatusBadge status={item.status} />
                <span class="hint">
                  asked {timeText(item.startedAt)}
                  {item.closedAt ? `, closed ${timeText(item.closedAt)}` : ''}
                </span>
              </li>
            ))}
          </ul>
          {next && (
            <button type="button" class="secondary" onClick={() => void loadMore()}>
              More
            </button>
          )}
        </section>
      )}
    </>
  );
}

const CSV_COLUMNS: Array<keyof RequestSummary> = [
  'requestId',
  'status',
  'requesterId',
  'resourceId',
  'integration',
  'startedAt',
  'closedAt',
  'grantEndsAt',
  'breakGlass',
];

/** RFC 4180, with cells that a spreadsheet would run as a formula quoted as text. */
function toCsv(rows: RequestSummary[]): string {
  const cell = (value: string | undefined) => {
    let text = value ?? '';
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return (
    [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((column) => cell(row[column])).join(','))].join(
      '\r\n',
    ) + '\r\n'
  );
}
