import { useState } from 'preact/hooks';
import { api, type Resource, unwrap } from '../api/client';
import { durationText, GUARANTEES, isoDurationMs, minutesToIso } from '../format';
import { Link, navigate } from '../router';
import { ErrorNote, Field, PageTitle, useLoaded } from '../ui';

/** What I may request, each with the flow that would apply, and the form for the one chosen. */
export function CatalogPage({ chosen }: { chosen?: string }) {
  const resources = useLoaded(() => unwrap(api.GET('/v1/resources')), []);
  const resource = chosen ? resources.data?.find((candidate) => candidate.id === chosen) : undefined;
  if (chosen) {
    return (
      <>
        <p>
          <Link href="/">← All resources</Link>
        </p>
        <ErrorNote message={resources.error} />
        {resources.loading && <p aria-busy="true">Loading…</p>}
        {resources.data && !resource && <ErrorNote message={`You may not request ${chosen}.`} />}
        {resource && <RequestForm resource={resource} />}
      </>
    );
  }
  return (
    <>
      <PageTitle>Request access</PageTitle>
      <p>What you may ask for, who approves it, for how long, and what latchkey can promise about its end.</p>
      <ErrorNote message={resources.error} />
      {resources.loading && <p aria-busy="true">Loading…</p>}
      {resources.data?.length === 0 && <p>The policy offers you nothing to request.</p>}
      <ul class="cards">
        {resources.data?.map((item) => (
          <li key={item.id} class="card">
            <ResourceSummary resource={item} headingLevel={2} />
            <Link href={`/request/${encodeURIComponent(item.id)}`} class="button" aria-label={`Request ${item.name}`}>
              Request
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}

function approverText(tiers: Resource['flow']['approvers']): string {
  if (tiers.length === 0) return 'nobody: granted at once';
  return tiers
    .map(
      (tier, index) =>
        `${tiers.length > 1 ? `tier ${index + 1}: ` : ''}${tier.map((who) => `${who.kind} ${who.id}`).join(' or ')}`,
    )
    .join('; then ');
}

function ResourceSummary({ resource, headingLevel }: { resource: Resource; headingLevel: 1 | 2 }) {
  const Heading = headingLevel === 1 ? 'h1' : 'h2';
  return (
    <>
      <Heading>
        {resource.name} <span class="hint">({resource.id})</span>
      </Heading>
      <dl class="facts">
        <dt>Kind</dt>
        <dd>
          {resource.type} in {resource.integration}
        </dd>
        <dt>Approvers</dt>
        <dd>{resource.flow.automatic ? 'none: granted at once' : approverText(resource.flow.approvers)}</dd>
        <dt>Duration</dt>
        <dd>
          {durationText(resource.flow.defaultDuration)} by default, at most {durationText(resource.flow.maxDuration)}
        </dd>
        <dt>Guarantee</dt>
        <dd>{GUARANTEES[resource.grantMode] ?? resource.grantMode}</dd>
        {resource.accessDetails && (
          <>
            <dt>Access details</dt>
            <dd>{resource.accessDetails}</dd>
          </>
        )}
        {resource.reaches && (
          <>
            <dt>Who else gets it</dt>
            <dd>
              Every member of {resource.reaches.map((reach) => reach.title ?? reach.groupId).join(', ')} in 1Password
            </dd>
          </>
        )}
        {resource.flow.breakGlass && (
          <>
            <dt>Break-glass</dt>
            <dd>
              Offered: access at once for at most {durationText(resource.flow.breakGlass.maxDuration)}, ratified within{' '}
              {durationText(resource.flow.breakGlass.ratifyWithin)} or it ends
            </dd>
          </>
        )}
      </dl>
    </>
  );
}

const DURATION_CHOICES = [15, 30, 60, 120, 240, 480, 720, 1440, 2880, 10_080];

/** The request form, checked against the flow's own rules before it is sent (the API checks them again). */
function RequestForm({ resource }: { resource: Resource }) {
  const maxMinutes = Math.floor(isoDurationMs(resource.flow.maxDuration) / 60_000);
  const defaultMinutes = Math.floor(isoDurationMs(resource.flow.defaultDuration) / 60_000);
  const choices = [
    ...new Set([...DURATION_CHOICES.filter((minutes) => minutes <= maxMinutes), defaultMinutes, maxMinutes]),
  ]
    .filter((minutes) => minutes > 0)
    .sort((a, b) => a - b);
  const [minutes, setMinutes] = useState(defaultMinutes || choices[0]);
  const [justification, setJustification] = useState('');
  const [ticket, setTicket] = useState('');
  const [breakGlass, setBreakGlass] = useState(false);
  const [startAt, setStartAt] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [idempotencyKey] = useState(() => crypto.randomUUID());

  const check = (): string[] => {
    const found: string[] = [];
    if (resource.flow.justificationRequired && justification.trim().length === 0) found.push('Say why you need it.');
    if (resource.flow.ticketRequired && ticket.trim().length === 0) found.push('Give the ticket this is for.');
    if (minutes > maxMinutes) found.push(`At most ${durationText(resource.flow.maxDuration)}.`);
    if (startAt && new Date(startAt).getTime() <= Date.now()) found.push('The start must be in the future.');
    return found;
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const found = check();
    setProblems(found);
    if (found.length > 0) return;
    setBusy(true);
    setError(undefined);
    unwrap(
      api.POST('/v1/requests', {
        params: { header: { 'Idempotency-Key': idempotencyKey } },
        body: {
          resourceId: resource.id,
          duration: minutesToIso(minutes),
          ...(justification.trim() ? { justification: justification.trim() } : {}),
          ...(ticket.trim() ? { ticket: ticket.trim() } : {}),
          ...(breakGlass ? { breakGlass: true } : {}),
          ...(startAt ? { startAt: new Date(startAt).toISOString() } : {}),
        },
      }),
    ).then(
      (state) => navigate(`/requests/${encodeURIComponent(state.requestId)}`),
      (err: unknown) => {
        setBusy(false);
        setError((err as Error).message);
      },
    );
  };

  return (
    <>
      <ResourceSummary resource={resource} headingLevel={1} />
      <form class="form" onSubmit={submit} noValidate aria-describedby="form-problems">
        <h2>Your request</h2>
        <div id="form-problems">
          {problems.length > 0 && (
            <div class="note note-error" role="alert">
              <ul>
                {problems.map((problem) => (
                  <li key={problem}>{problem}</li>
                ))}
              </ul>
            </div>
          )}
        </div>
        <ErrorNote message={error} />
        <Field id="duration" label="For how long">
          <select
            id="duration"
            value={String(minutes)}
            onChange={(event) => setMinutes(Number(event.currentTarget.value))}
          >
            {choices.map((choice) => (
              <option key={choice} value={String(choice)}>
                {durationText(`PT${choice}M`)}
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="justification"
          label={`Why${resource.flow.justificationRequired ? ' (required)' : ''}`}
          hint="Your approvers read this; so do auditors later."
        >
          <textarea
            id="justification"
            rows={3}
            required={resource.flow.justificationRequired}
            aria-describedby="justification-hint"
            value={justification}
            onInput={(event) => setJustification(event.currentTarget.value)}
          />
        </Field>
        <Field id="ticket" label={`Ticket${resource.flow.ticketRequired ? ' (required)' : ''}`}>
          <input
            id="ticket"
            required={resource.flow.ticketRequired}
            value={ticket}
            onInput={(event) => setTicket(event.currentTarget.value)}
          />
        </Field>
        <Field id="start-at" label="Start later (optional)" hint="Leave empty to start as soon as it is approved.">
          <input
            id="start-at"
            type="datetime-local"
            aria-describedby="start-at-hint"
            value={startAt}
            onInput={(event) => setStartAt(event.currentTarget.value)}
          />
        </Field>
        {resource.flow.breakGlass && (
          <div class="field checkbox">
            <input
              id="break-glass"
              type="checkbox"
              checked={breakGlass}
              onChange={(event) => setBreakGlass(event.currentTarget.checked)}
            />
            <label for="break-glass">
              Break-glass: access now, before anyone approves (everyone is told; not ratified in time, it ends)
            </label>
          </div>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Sending…' : 'Send request'}
        </button>
      </form>
    </>
  );
}
