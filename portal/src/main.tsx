import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { bindSession } from './api/client';
import { AdminPage } from './pages/admin';
import { AuditPage } from './pages/audit';
import { CatalogPage } from './pages/catalog';
import { InboxPage } from './pages/inbox';
import { MyRequestsPage } from './pages/my-requests';
import { RequestPage } from './pages/request';
import { SignInPage } from './pages/sign-in';
import { Link, navigate, useLocation } from './router';
import { currentSession, isSignedIn, type Session, type SignedOut, signOut } from './session';
import './styles.css';

function App() {
  const [session, setSession] = useState<Session | SignedOut>();
  const [failure, setFailure] = useState<string>();
  const refresh = () => {
    currentSession().then(setSession, (err: unknown) => setFailure(err instanceof Error ? err.message : String(err)));
  };
  useEffect(refresh, []);
  const location = useLocation();

  if (failure) return <p role="alert">{failure}</p>;
  if (!session) return <p aria-busy="true">Loading…</p>;
  if (!isSignedIn(session)) return <SignInPage mode={session.mode} signedIn={refresh} />;
  bindSession(session.csrfToken, () => setSession({ mode: session.mode }));

  const roles = new Set(session.roles);
  const auditor = roles.has('auditor') || roles.has('admin');
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          latchkey
        </Link>
        <nav aria-label="Main">
          <ul>
            <NavItem href="/" label="Request access" path={location.path} />
            <NavItem href="/requests" label="My requests" path={location.path} />
            <NavItem href="/inbox" label="Inbox" path={location.path} />
            {auditor && <NavItem href="/audit" label="Audit" path={location.path} />}
            {roles.has('admin') && <NavItem href="/admin" label="Emergency stop" path={location.path} />}
          </ul>
        </nav>
        <div class="who">
          <span>
            Signed in as <strong>{session.person.name ?? session.person.id}</strong>
          </span>
          <button
            type="button"
            class="link-button"
            onClick={() => void signOut(session.csrfToken).then(() => setSession({ mode: session.mode }))}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <Page path={location.path} query={location.query} session={session} />
      </main>
    </>
  );
}

function NavItem({ href, label, path }: { href: string; label: string; path: string }) {
  const current = href === '/' ? path === '/' || path.startsWith('/request/') : path === href;
  return (
    <li>
      <Link href={href} aria-current={current ? 'page' : undefined}>
        {label}
      </Link>
    </li>
  );
}

function Page({ path, query, session }: { path: string; query: URLSearchParams; session: Session }) {
  const request = /^\/requests\/([^/]+)$/.exec(path);
  if (request) return <RequestPage requestId={decodeURIComponent(request[1])} session={session} />;
  const asking = /^\/request\/([^/]+)$/.exec(path);
  if (asking) return <CatalogPage chosen={decodeURIComponent(asking[1])} />;
  switch (path) {
    case '/':
      return <CatalogPage />;
    case '/requests':
      return <MyRequestsPage />;
    case '/inbox':
      return <InboxPage session={session} />;
    case '/audit':
      return <AuditPage query={query} />;
    case '/admin':
      return <AdminPage />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>
            There is no page here.{' '}
            <button type="button" class="link-button" onClick={() => navigate('/')}>
              Go to the start
            </button>
          </p>
        </>
      );
  }
}

render(<App />, document.getElementById('app')!);
