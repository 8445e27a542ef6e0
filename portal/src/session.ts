/**
 * The portal's sign-in, served by the API beside the portal (apps/api/portal): not part of the
 * OpenAPI document, because only a browser with the session cookie uses it.
 */
export interface Session {
  mode: 'local' | 'oidc';
  person: { id: string; email?: string; name?: string };
  roles: string[];
  groups: string[];
  csrfToken: string;
  expiresAt: string;
}

export interface SignedOut {
  mode: 'local' | 'oidc';
}

export interface DemoPerson {
  id: string;
  name?: string;
  email?: string;
  groups: string[];
  roles: string[];
}

export async function currentSession(): Promise<Session | SignedOut> {
  const response = await fetch('/portal/auth/session', { credentials: 'same-origin' });
  const body = (await response.json()) as Session | SignedOut;
  if (response.ok) return body;
  if (response.status === 401) return { mode: body.mode };
  throw new Error(`The session could not be read (${response.status}).`);
}

export function isSignedIn(session: Session | SignedOut | undefined): session is Session {
  return session !== undefined && 'person' in session;
}

export async function demoPeople(): Promise<DemoPerson[]> {
  const response = await fetch('/portal/auth/people', { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`The demo people could not be read (${response.status}).`);
  return (await response.json()) as DemoPerson[];
}

export async function signInAs(personId: string): Promise<void> {
  const response = await fetch('/portal/auth/local', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ personId }),
  });
  if (!response.ok) throw new Error(`Signing in as ${personId} failed (${response.status}).`);
}

/** Where the OpenID sign-in starts; the provider sends the browser back to `returnTo`. */
export function oidcSignInUrl(returnTo: string): string {
  return `/portal/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
}

export async function signOut(csrfToken: string): Promise<void> {
  await fetch('/portal/auth/logout', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken },
  });
}
