/**
 * The dashboard: sign in (an API key traded for an HttpOnly session cookie), then five tabs over
 * the REST API and one live stream. No framework: the DOM, fetch and EventSource are enough.
 */
import { api, ApiError, setCsrf, whenUnauthorized, type SessionInfo } from './api.js';
import type { Ctx, View } from './context.js';
import { CoordinationView } from './coordination.js';
import { clear, h } from './dom.js';
import { LogsView } from './logs.js';
import { OverviewView } from './overview.js';
import { ServersView } from './servers.js';
import { LiveStream } from './stream.js';
import { ToolsView } from './tools.js';

const root = document.getElementById('app')!;
/** Ends the signed-in page: its view's timers, its stream, its hash routing. */
let teardown: (() => void) | undefined;

async function boot(): Promise<void> {
  let session: SessionInfo;
  try {
    session = await api<SessionInfo>('/ui/session');
  } catch (error) {
    clear(
      root,
      h(
        'p',
        { class: 'error', role: 'alert' },
        `The coordinator did not answer: ${(error as Error).message}`,
      ),
    );
    return;
  }
  if (!session.signedIn) return signIn();
  setCsrf(session.csrfToken ?? '');
  shell(session);
}

function signIn(message = ''): void {
  teardown?.();
  teardown = undefined;
  setCsrf('');
  const key = h('input', {
    id: 'api-key',
    name: 'key',
    type: 'password',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'key-hint',
  });
  const error = h('p', { class: 'error', role: 'alert' }, message);
  const form = h(
    'form',
    { class: 'signin', 'aria-labelledby': 'h-signin' },
    h('h1', { id: 'h-signin' }, 'mcp-coordinator'),
    h('label', { for: 'api-key' }, 'API key'),
    key,
    h(
      'p',
      { id: 'key-hint', class: 'hint' },
      'Kept only by the server for this session: the page holds an HttpOnly cookie, never the key.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = key.value;
    key.value = '';
    void api<SessionInfo>('/ui/session', { method: 'POST', body: { key: value } })
      .then((session) => {
        setCsrf(session.csrfToken ?? '');
        shell(session);
      })
      .catch((err: unknown) => {
        error.textContent =
          err instanceof ApiError && err.status === 401
            ? 'That key is not valid.'
            : `Sign-in failed: ${(err as Error).message}`;
        key.focus();
      });
  });
  clear(root, h('main', { class: 'center' }, form));
  key.focus();
}

function shell(session: SessionInfo): void {
  teardown?.();
  const live = new LiveStream();
  const scopes = new Set(session.scopes ?? []);
  const ctx: Ctx = { session, stream: live, can: (scope) => scopes.has(scope) };
  const views: View[] = [
    new OverviewView(ctx),
    new ServersView(ctx),
    new ToolsView(ctx),
    new LogsView(ctx),
    new CoordinationView(ctx),
  ];
  const indicator = h('span', { class: 'live', 'data-state': 'connecting', role: 'status' }, 'connecting');
  live.onState = (state) => {
    indicator.dataset.state = state;
    indicator.textContent = state === 'open' ? 'live' : state;
  };
  live.onSignedOut = () => signIn('Your session ended; sign in again.');
  const tabs = views.map((v) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${v.id}`,
        'aria-controls': `panel-${v.id}`,
        'aria-selected': 'false',
        tabindex: -1,
        onclick: () => select(v.id),
      },
      v.title,
    ),
  );
  const panels = views.map((v) => {
    const panel = h(
      'div',
      { role: 'tabpanel', id: `panel-${v.id}`, 'aria-labelledby': `tab-${v.id}`, hidden: true },
      v.el,
    );
    return panel;
  });
  const tablist = h('nav', { role: 'tablist', 'aria-label': 'Dashboard sections' }, ...tabs);
  tablist.addEventListener('keydown', (e) => {
    const i = tabs.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    const next =
      e.key === 'ArrowRight'
        ? (i + 1) % tabs.length
        : e.key === 'ArrowLeft'
          ? (i - 1 + tabs.length) % tabs.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? tabs.length - 1
              : -1;
    if (next < 0) return;
    e.preventDefault();
    select(views[next]!.id);
    tabs[next]!.focus();
  });
  const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOut.addEventListener('click', () => {
    void api('/ui/session', { method: 'DELETE' })
      .catch(() => undefined)
      .then(() => signIn('Signed out.'));
  });
  const who = session.authRequired ? `${session.name} (${[...scopes].join(', ')})` : 'no auth (loopback)';
  clear(
    root,
    h(
      'header',
      {},
      h('h1', {}, 'mcp-coordinator'),
      indicator,
      h('span', { class: 'who', 'data-testid': 'who' }, who),
      session.authRequired ? signOut : null,
    ),
    tablist,
    h('main', {}, ...panels),
  );
  let current: View | undefined;
  function select(id: string): void {
    const view = views.find((v) => v.id === id) ?? views[0]!;
    if (current === view) return;
    current?.hide();
    views.forEach((v, i) => {
      const on = v === view;
      tabs[i]!.setAttribute('aria-selected', String(on));
      tabs[i]!.tabIndex = on ? 0 : -1;
      panels[i]!.hidden = !on;
    });
    current = view;
    if (location.hash !== `#${view.id}`) history.replaceState(null, '', `#${view.id}`);
    // One connection per page: the logs while the logs tab is shown, the events otherwise.
    if (view.id !== 'logs') live.use('events');
    view.show();
  }
  window.onhashchange = () => select(location.hash.slice(1));
  teardown = () => {
    current?.hide();
    live.close();
    window.onhashchange = null;
  };
  // Only a signed-in page goes back to the form (a wrong key on the form is a 401 too).
  whenUnauthorized(() => {
    if (teardown) signIn('Your session ended; sign in again.');
  });
  select(location.hash.slice(1) || 'overview');
}

void boot();
