// The admin app: asks who is signed in (and the CSRF token), then shows the page of the URL.
// Moving between pages changes the URL with the History API without reloading; each page is a
// module with `title` and `mount(main)`, which returns what stops its timers.
import { api, ApiFailure, fill, getCsrfToken, h, notice, setCsrfToken } from './lib.js';
import * as snapshot from './snapshot.js';
import * as users from './users.js';
import * as relays from './relays.js';
import * as playlists from './playlists.js';
import * as settings from './settings.js';
import * as logs from './logs.js';

/** @type {Record<string, { title: string, mount: (main: HTMLElement) => { stop(): void } }>} */
const ROUTES = {
  '/': snapshot,
  '/users': users,
  '/relays': relays,
  '/playlists': playlists,
  '/settings': settings,
  '/logs': logs,
};

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
let current;

function routeOf(pathname) {
  const p = pathname.replace(/\/+$/, '') || '/';
  return ROUTES[p] ? p : undefined;
}

function show(pathname, focus) {
  current?.stop();
  current = undefined;
  const route = routeOf(pathname);
  for (const a of document.querySelectorAll('nav a[data-route]')) {
    if (a.getAttribute('data-route') === route) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!route) {
    document.title = 'Not found · Rivulet admin';
    fill(
      main,
      h('h1', null, 'Not found'),
      notice('error', `There is no admin page at ${pathname}.`),
      h('p', null, h('a', { href: '/' }, 'Go to the Snapshot')),
    );
    return;
  }
  const page = ROUTES[route];
  document.title = `${page.title} · Rivulet admin`;
  fill(main);
  current = page.mount(main);
  if (focus) main.focus({ preventScroll: true });
}

// Links to pages of the app stay in the app (a modified click still opens a new tab).
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !routeOf(url.pathname)) return;
  e.preventDefault();
  if (url.pathname !== location.pathname || url.search !== location.search) history.pushState(null, '', url);
  show(url.pathname, true);
  window.scrollTo(0, 0);
});
window.addEventListener('popstate', () => show(location.pathname, true));

// Sign-out: a POST carrying the token (header, and the form field for a server that reads
// forms), then the sign-in page whatever the answer (a session already gone is signed out too).
document.getElementById('signout')?.addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = getCsrfToken();
  try {
    await fetch('/signout', {
      method: 'POST',
      headers: { 'X-CSRF-Token': token, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrfToken: token }).toString(),
      credentials: 'same-origin',
      redirect: 'manual',
    });
  } finally {
    location.assign('/signin?error=signedout');
  }
});

async function start() {
  try {
    const s = await api('GET', '/session');
    setCsrfToken(s.csrfToken);
    const field = /** @type {HTMLInputElement | null} */ (
      document.querySelector('#signout input[name=csrfToken]')
    );
    if (field) field.value = s.csrfToken;
    fill(/** @type {HTMLElement} */ (document.getElementById('who')), s.user);
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) return;
    fill(
      main,
      notice('error', `The admin could not start: ${e instanceof Error ? e.message : String(e)}`),
      h('p', null, h('a', { href: location.pathname }, 'Try again')),
    );
    return;
  }
  show(location.pathname, false);
}

void start();
