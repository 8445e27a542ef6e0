import { useEffect, useState } from 'preact/hooks';
import { demoPeople, type DemoPerson, oidcSignInUrl, signInAs } from '../session';
import { ErrorNote, PageTitle } from '../ui';

/** The API's reasons for a sign-in that came back without a session (apps/api/portal/portal-auth-routes.ts). */
const SIGN_IN_ERRORS: Record<string, string> = {
  'access-denied': 'The identity provider did not sign you in.',
  'provider-error': 'The identity provider refused the sign-in.',
  'sign-in-expired': 'The sign-in took too long; start again.',
  'provider-unavailable': 'The identity provider cannot be reached; try again shortly.',
  'token-refused': 'The identity provider signed you in, but latchkey does not accept its token for you.',
  failed: 'The sign-in could not be completed; start again.',
};

/**
 * Local mode: pick one of the demo people (the directory file). OpenID mode: the provider's own sign-in,
 * with the authorization code flow and PKCE, run by the API.
 */
export function SignInPage({ mode, signedIn }: { mode: 'local' | 'oidc'; signedIn: () => void }) {
  const params = new URLSearchParams(window.location.search);
  const signInError = params.get('signInError');
  return (
    <main id="main" class="sign-in">
      <PageTitle>Sign in to latchkey</PageTitle>
      <p>Just-in-time access to secrets kept in 1Password: ask, get approved, use it, and it ends on its own.</p>
      <ErrorNote message={signInError ? (SIGN_IN_ERRORS[signInError] ?? SIGN_IN_ERRORS.failed) : undefined} />
      {mode === 'oidc' ? (
        <p>
          <a class="button" href={oidcSignInUrl(`${window.location.pathname}`)}>
            Sign in with your identity provider
          </a>
        </p>
      ) : (
        <LocalPicker signedIn={signedIn} />
      )}
    </main>
  );
}

function LocalPicker({ signedIn }: { signedIn: () => void }) {
  const [people, setPeople] = useState<DemoPerson[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    demoPeople().then(setPeople, (err: unknown) => setError((err as Error).message));
  }, []);
  const choose = (id: string) => {
    setBusy(true);
    signInAs(id).then(signedIn, (err: unknown) => {
      setBusy(false);
      setError((err as Error).message);
    });
  };
  return (
    <section aria-labelledby="people-heading">
      <h2 id="people-heading">Local mode: be one of the demo people</h2>
      <p class="hint">
        No identity provider is configured, so the portal signs you in as a person of the directory file. Production
        runs use OpenID Connect.
      </p>
      <ErrorNote message={error} />
      {people === undefined && !error && <p aria-busy="true">Loading people…</p>}
      <ul class="people">
        {people?.map((person) => (
          <li key={person.id}>
            <button type="button" disabled={busy} onClick={() => choose(person.id)}>
              <strong>{person.name ?? person.id}</strong>
              <span class="hint">
                {person.id} · {[...person.groups, ...person.roles].join(', ') || 'no groups'}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
