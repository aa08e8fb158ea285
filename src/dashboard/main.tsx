// The dashboard's shell: sign-in, the header, navigation by hash route, toasts. Each view
// lives in views/<name>.tsx and reads the one store (lib/store.ts).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { onUnauthorized, setCredentials, hasCredentials } from './lib/api.js';
import { dismissToast, onToasts, type Toast } from './lib/actions.js';
import { getState, loadMe, setState, start, stop, useStore } from './lib/store.js';
import { ServicesView } from './views/services.js';
import { TrafficView } from './views/traffic.js';
import { EventsView } from './views/events.js';
import { FailoverView } from './views/failover.js';
import { AlertsView } from './views/alerts.js';
import { AuditView } from './views/audit.js';
import { ApplyView } from './views/apply.js';
import { ChaosView } from './views/chaos.js';
import { HelpButton } from './views/help.js';
import { TourButton } from './views/tour.js';
import { DemoButton } from './views/demo.js';
import { useCurrentTabInView } from './views/nav.js';

const VIEWS = [
  { id: 'services', label: 'Services', View: ServicesView },
  { id: 'traffic', label: 'Traffic', View: TrafficView },
  { id: 'events', label: 'Events', View: EventsView },
  { id: 'failover', label: 'Failover', View: FailoverView },
  { id: 'alerts', label: 'Alerts', View: AlertsView },
  { id: 'chaos', label: 'Chaos', View: ChaosView },
  { id: 'audit', label: 'Audit', View: AuditView },
  { id: 'apply', label: 'Apply YAML', View: ApplyView },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

function routeOf(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (VIEWS.find((v) => v.id === id)?.id ?? 'services') as ViewId;
}

function useRoute(): ViewId {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const on = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Login() {
  const error = useStore((s) => s.loginError);
  const [mode, setMode] = useState<'user' | 'key'>('user');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setCredentials(mode === 'key' ? { key: String(f.get('key') ?? '') } : { user: String(f.get('user') ?? ''), password: String(f.get('password') ?? '') });
    const ok = await loadMe();
    setBusy(false);
    if (ok) start();
    else {
      setCredentials(null);
      if (!getState().loginError) setState({ loginError: 'Wrong name, password or key.' });
    }
  };
  return (
    <main class="login">
      <form class="panel login-form" data-testid="login-form" onSubmit={submit} aria-describedby="login-why">
        <h1 class="brand">
          <span aria-hidden="true">▦</span> Grid
        </h1>
        <p id="login-why" class="muted">
          This Grid has users or API keys, so it asks who you are. Viewers see everything; operators can change it.
        </p>
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'user'} onClick={() => setMode('user')}>
            User
          </button>
          <button type="button" role="tab" aria-selected={mode === 'key'} onClick={() => setMode('key')}>
            API key
          </button>
        </div>
        {mode === 'user' ? (
          <>
            <label>
              Name
              <input name="user" data-testid="login-user" autocomplete="username" required autofocus />
            </label>
            <label>
              Password
              <input name="password" type="password" data-testid="login-password" autocomplete="current-password" required />
            </label>
          </>
        ) : (
          <label>
            API key
            <input name="key" type="password" data-testid="login-key" autocomplete="off" required autofocus />
          </label>
        )}
        {error && (
          <p class="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" data-testid="login-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function Toasts() {
  const [list, setList] = useState<Toast[]>([]);
  useEffect(() => onToasts(setList), []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} data-testid={t.kind === 'ok' ? 'toast' : 'toast-error'}>
          <span>{t.text}</span>
          <button type="button" class="icon" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

function WhoAmIBadge() {
  const me = useStore((s) => s.me);
  if (!me) return null;
  const signOut = () => {
    setCredentials(null);
    stop();
    setState({ me: null, needLogin: true, loginError: null, state: null, services: new Map(), events: [], experiments: null });
  };
  const label = me.kind === 'anonymous' ? (me.authRequired.mutate ? 'anonymous · read-only' : 'open (no users or keys)') : `${me.name} · ${me.role}`;
  return (
    <span class="whoami">
      <span data-testid="whoami" class={me.canAct ? 'badge act' : 'badge'} title={me.canAct ? 'can change state' : 'read-only'}>
        {label}
      </span>
      {me.kind === 'anonymous' && me.authRequired.mutate ? (
        <button type="button" onClick={() => setState({ needLogin: true })}>
          Sign in
        </button>
      ) : null}
      {hasCredentials() && (
        <button type="button" data-testid="logout" onClick={signOut}>
          Sign out
        </button>
      )}
    </span>
  );
}

function Shell() {
  const route = useRoute();
  useCurrentTabInView();
  const needLogin = useStore((s) => s.needLogin);
  const me = useStore((s) => s.me);
  const connected = useStore((s) => s.connected);
  useEffect(() => {
    const off = onUnauthorized(() => {
      // Everything stops with the credentials: polls and stream reconnects would keep sending refused ones.
      const had = hasCredentials();
      setCredentials(null);
      stop();
      if (!getState().needLogin) setState({ needLogin: true, loginError: had ? 'Your credentials were refused; sign in again.' : null });
    });
    void loadMe().then((ok) => ok && start());
    return () => {
      off();
      stop();
    };
  }, []);
  if (needLogin) return <Login />;
  if (!me) return <p class="boot">Connecting to Grid…</p>;
  const Current = VIEWS.find((v) => v.id === route)!.View;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1 class="brand">
          <span aria-hidden="true">▦</span> Grid
        </h1>
        <nav aria-label="Views">
          {VIEWS.map((v) => (
            <a key={v.id} href={`#/${v.id}`} data-testid={`nav-${v.id}`} aria-current={v.id === route ? 'page' : undefined}>
              {v.label}
            </a>
          ))}
        </nav>
        <div class="top-actions">
          <span class="sse" data-testid="sse-status" data-state={connected} title={connected === 'live' ? 'live: events stream in' : 'reconnecting to the event stream'}>
            <span class="dot" aria-hidden="true" />
            {connected === 'live' ? 'live' : 'reconnecting'}
          </span>
          <DemoButton />
          <TourButton />
          <HelpButton />
          <WhoAmIBadge />
        </div>
      </header>
      <main id="main" data-testid={`view-${route}`} tabIndex={-1}>
        <Current />
      </main>
      <Toasts />
    </>
  );
}

render(<Shell />, document.getElementById('app')!);
