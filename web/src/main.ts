import './styles.css';
import { createContext, type AppContext, type View } from './app';
import { h, replace } from './dom';
import { duration } from './format';
import { parseHash } from './route';
import { LiveStream } from './stream';

/**
 * The dashboard shell: navigation, connection state, theme, and a hash router that mounts one
 * view at a time. Views other than the overview load on first use, so the first screen only
 * downloads what it draws.
 */

const ROUTES: Record<string, { label: string; load: () => Promise<(ctx: AppContext) => View> }> = {
  overview: { label: 'Market', load: async () => (await import('./views/overview-view')).overviewView },
  symbol: { label: 'Chart', load: async () => (await import('./views/symbol-view')).symbolView },
  alerts: { label: 'Alerts & rejects', load: async () => (await import('./views/alerts-view')).alertsView },
  pipeline: { label: 'Pipeline', load: async () => (await import('./views/pipeline-view')).pipelineView },
  topics: { label: 'Topics', load: async () => (await import('./views/topics-view')).topicsView },
  sql: { label: 'SQL', load: async () => (await import('./views/sql-view')).sqlView },
};

const THEME_KEY = 'stockstream.theme';

function applyTheme(theme: 'dark' | 'light'): void {
  document.documentElement.dataset['theme'] = theme;
  document.dispatchEvent(new CustomEvent('themechange', { detail: theme }));
}

function initialTheme(): 'dark' | 'light' {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function start(): void {
  applyTheme(initialTheme());
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/stream`;
  const stream = new LiveStream(wsUrl);
  const ctx = createContext(stream);

  const nav = h('nav', { class: 'nav', 'aria-label': 'Views' });
  const links = new Map<string, HTMLAnchorElement>();
  for (const [name, r] of Object.entries(ROUTES)) {
    const a = h('a', { href: `#/${name}`, 'data-view': name }, r.label);
    links.set(name, a);
    nav.append(a);
  }
  const conn = h('span', { class: 'conn', role: 'status', 'aria-live': 'polite', 'data-state': 'connecting' }, 'Connecting…');
  let countdown: ReturnType<typeof setInterval> | null = null;
  stream.onState((state, retryAt) => {
    conn.dataset['state'] = state;
    if (countdown !== null) clearInterval(countdown);
    countdown = null;
    if (state === 'open') conn.textContent = 'Live';
    else if (state === 'connecting') conn.textContent = 'Connecting…';
    else {
      const show = (): void => {
        conn.textContent = `Reconnecting in ${duration(Math.max(0, retryAt - Date.now()))}`;
      };
      show();
      countdown = setInterval(show, 250);
    }
  });
  const themeBtn = h('button', { class: 'theme-toggle', type: 'button', 'aria-label': 'Switch between dark and light theme' }, '◐');
  themeBtn.addEventListener('click', () => {
    const next = document.documentElement.dataset['theme'] === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
  });
  const header = h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '#/overview' }, 'StockStream'), nav, h('div', { class: 'topbar-end' }, conn, themeBtn));
  const main = h('main', { id: 'view', tabindex: '-1' });
  // Not href="#view": the hash is the router's.
  const skip = h('a', { class: 'skip', href: '#' }, 'Skip to content');
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
  replace(document.body, skip, header, main);

  let current: { name: string; view: View } | null = null;
  let seq = 0;
  const route = async (): Promise<void> => {
    const { view: name, params } = parseHash(location.hash);
    const r = ROUTES[name];
    if (r === undefined) {
      location.hash = '#/overview';
      return;
    }
    const mine = ++seq;
    for (const [n, a] of links) {
      if (n === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const factory = await r.load();
    if (mine !== seq) return;
    current?.view.unmount();
    const view = factory(ctx);
    current = { name, view };
    replace(main);
    main.dataset['view'] = name;
    document.title = `${r.label} · StockStream`;
    await view.mount(main, params);
  };
  window.addEventListener('hashchange', () => void route());
  void route();
}

start();
