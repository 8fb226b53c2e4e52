// What every page of the admin shares: the API client (CSRF token on every change, a 401 sends
// the browser to the sign-in page), DOM building without innerHTML (server text is always set as
// text, never parsed as HTML), number and time formats, and the refresh timer pages poll with.

/** @typedef {{ status: number, message: string, key?: string }} ApiFailureInfo */

/** A refused or failed API request: the status, the server's message and, for a wrong config
 * value, the key it names. */
export class ApiFailure extends Error {
  /** @param {number} status @param {string} message @param {string | undefined} key */
  constructor(status, message, key) {
    super(message);
    this.name = 'ApiFailure';
    this.status = status;
    this.key = key;
  }
}

let csrfToken = '';
/** Server clock minus browser clock, ms, from the Date header of the latest answer: times
 * "connected for" are counted on the server's clock even when the browser's is off. */
let clockOffsetMs = 0;

/** The token the server gave this signed-in browser (GET /api/v1/session). */
export function setCsrfToken(token) {
  csrfToken = token;
}

export function getCsrfToken() {
  return csrfToken;
}

/** Now on the server's clock, Unix ms. */
export function serverNow() {
  return Date.now() + clockOffsetMs;
}

/** Sends the browser to the sign-in page, once. */
let leaving = false;
export function toSignIn(reason) {
  if (leaving) return;
  leaving = true;
  const q = reason ? `?error=${encodeURIComponent(reason)}` : '';
  location.assign(`/signin${q}`);
}

/**
 * One API call. `path` is below /api/v1. Resolves with the JSON body (undefined for 204);
 * rejects with ApiFailure. A 401 (signed out, session expired) sends the browser to sign in.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiFailure(
      0,
      `the server could not be reached (${e instanceof Error ? e.message : String(e)})`,
      undefined,
    );
  }
  const date = Date.parse(res.headers.get('date') ?? '');
  // The Date header has whole seconds: only a skew beyond them is worth correcting.
  if (!Number.isNaN(date) && Math.abs(date - Date.now()) > 2000) clockOffsetMs = date - Date.now();
  if (res.status === 401) {
    toSignIn('expired');
    throw new ApiFailure(401, 'signed out', undefined);
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const message =
      json && typeof json.error === 'string' ? json.error : `${res.status} ${res.statusText}`.trim();
    throw new ApiFailure(res.status, message, json && typeof json.key === 'string' ? json.key : undefined);
  }
  return json;
}

/** The path part of an API URL for a name that may hold `/` (a playlist at `live/tv`). */
export function enc(name) {
  return encodeURIComponent(name);
}

// ---------------------------------------------------------------------------------------------
// DOM

/**
 * Builds an element: `attrs` are properties or attributes (`class`, `data-*`, `aria-*`, `for`
 * as attributes; `on*` functions as listeners); children are nodes or text.
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (
      k === 'class' ||
      k === 'for' ||
      k === 'role' ||
      k === 'title' ||
      k.startsWith('data-') ||
      k.startsWith('aria-')
    )
      el.setAttribute(k, v === true ? '' : String(v));
    else if (k in el) /** @type {any} */ (el)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A number shown formatted with its exact value kept machine-readable (`<data value>`), and
 * as a tooltip. */
export function dataValue(value, text, title) {
  return h('data', { value: String(value), title: title ?? String(value) }, text);
}

/** A message line: `kind` is `error`, `ok` or `info`. */
export function notice(kind, ...children) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

/**
 * A table that scrolls sideways inside its box on a narrow window and, below 640px, shows each
 * row as a card with the column names as labels (each cell carries `data-label`). A column's
 * `sort` makes its header a sort button: a function sorts here (sortRows), `true` where the rows
 * come sorted (by the server).
 * @param {{ caption?: string, columns: { key: string, label: string, numeric?: boolean, sort?: true | ((row: any) => string | number) }[], rows: any[], cells: (row: any) => (Node | string)[], empty: string, sort?: { key: string, dir: 1 | -1 }, onSort?: (key: string) => void, rowAttrs?: (row: any) => Record<string, string> }} o
 */
export function table(o) {
  const head = h(
    'tr',
    null,
    o.columns.map((c) => {
      const sorted = o.sort && o.sort.key === c.key;
      const ariaSort = sorted ? (o.sort.dir === 1 ? 'ascending' : 'descending') : c.sort ? 'none' : undefined;
      const label =
        c.sort && o.onSort
          ? h(
              'button',
              { type: 'button', class: 'sort', onclick: () => o.onSort(c.key) },
              c.label,
              h(
                'span',
                { class: 'arrow', 'aria-hidden': 'true' },
                sorted ? (o.sort.dir === 1 ? '▲' : '▼') : '',
              ),
            )
          : c.label;
      return h('th', { scope: 'col', class: c.numeric ? 'num' : undefined, 'aria-sort': ariaSort }, label);
    }),
  );
  const body = o.rows.length
    ? o.rows.map((r) =>
        h(
          'tr',
          o.rowAttrs ? o.rowAttrs(r) : null,
          o
            .cells(r)
            .map((cell, i) =>
              h(
                'td',
                { 'data-label': o.columns[i].label, class: o.columns[i].numeric ? 'num' : undefined },
                cell,
              ),
            ),
        ),
      )
    : [h('tr', { class: 'empty' }, h('td', { colSpan: o.columns.length }, o.empty))];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'stack' },
      o.caption ? h('caption', null, o.caption) : null,
      h('thead', null, head),
      h('tbody', null, body),
    ),
  );
}

/** Sorts rows by a column's `sort` value in place. */
export function sortRows(rows, columns, sort) {
  const col = columns.find((c) => c.key === sort?.key);
  if (!col || !col.sort) return rows;
  return rows.sort((a, b) => {
    const x = col.sort(a);
    const y = col.sort(b);
    return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
  });
}

/** A table's sort order, remembered per page: `by` now, and `onSort` for its column headers
 * (a second click on the same column turns the order round), which calls `render`. */
export function sortable(page, fallback, render) {
  const s = {
    by: remembered(`${page}.sort`, fallback),
    onSort: (key) => {
      s.by = { key, dir: s.by.key === key ? -s.by.dir : 1 };
      remember(`${page}.sort`, s.by);
      render();
    },
  };
  return s;
}

/** The badge colour of a configured source's state (SourceInfo.state). */
export const SOURCE_STATE_BADGE = { running: 'good', waiting: 'warn', stopped: 'bad', idle: 'idle' };

/** A labelled search box; `oninput` gets the text. */
export function searchField(o) {
  const id = `f-${o.name}`;
  return h(
    'label',
    { class: 'inline', for: id },
    h('span', null, o.label),
    h('input', { id, type: 'search', placeholder: o.placeholder, oninput: (e) => o.oninput(e.target.value) }),
  );
}

/** A labelled `<select>`; `onchange` gets the chosen value. */
export function selectField(o) {
  const id = `f-${o.name}`;
  const select = h(
    'select',
    { id, name: o.name, onchange: (e) => o.onchange(e.target.value) },
    o.options.map(([value, label]) =>
      h('option', { value: String(value), selected: String(value) === String(o.value) }, label),
    ),
  );
  return h('label', { class: 'inline', for: id }, h('span', null, o.label), select);
}

// ---------------------------------------------------------------------------------------------
// Formats

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export function int(n) {
  return Number.isFinite(n) ? nf.format(n) : '–';
}

/** Bytes in KB/MB/GB (1024-based, as DSS showed them). */
export function bytes(n) {
  if (!Number.isFinite(n)) return '–';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${nf.format(v)} bytes` : `${v >= 100 ? nf.format(v) : nf1.format(v)} ${units[u]}`;
}

/** kbit/s, or Mbit/s past 10 000. */
export function kbps(n) {
  if (!Number.isFinite(n)) return '–';
  return n >= 10_000 ? `${nf1.format(n / 1000)} Mbit/s` : `${nf.format(n)} kbit/s`;
}

/** Seconds as `3d 4h 05m 06s` (leading zero units left out). */
export function duration(totalSeconds) {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return '–';
  let s = Math.floor(totalSeconds);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  s -= mm * 60;
  const p = (x) => String(x).padStart(2, '0');
  if (d) return `${d}d ${hh}h ${p(mm)}m ${p(s)}s`;
  if (hh) return `${hh}h ${p(mm)}m ${p(s)}s`;
  if (mm) return `${mm}m ${p(s)}s`;
  return `${s}s`;
}

/** A date and time in the browser's locale, with the zone. */
export function dateTime(t) {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
}

/** "12.5 %". */
export function percent(n) {
  return Number.isFinite(n) ? `${nf1.format(n)} %` : '–';
}

/** A time element with its ISO value. */
export function timeEl(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime())
    ? '–'
    : h('time', { dateTime: d.toISOString(), title: d.toISOString() }, dateTime(d));
}

// ---------------------------------------------------------------------------------------------
// Refreshing

/** Refresh intervals offered, seconds (0: only when asked). */
export const REFRESH_CHOICES = [
  [0, 'Off'],
  [2, 'every 2 s'],
  [5, 'every 5 s'],
  [10, 'every 10 s'],
  [30, 'every 30 s'],
  [60, 'every minute'],
];

/** A remembered per-page choice (refresh interval, page size). */
export function remembered(key, fallback) {
  try {
    const v = localStorage.getItem(`rivulet.${key}`);
    return v === null ? fallback : JSON.parse(v);
  } catch {
    return fallback;
  }
}

export function remember(key, value) {
  try {
    localStorage.setItem(`rivulet.${key}`, JSON.stringify(value));
  } catch {
    // Storage off (private window): the choice lasts for this page only.
  }
}

/**
 * Calls `load` now and then every `seconds` after the previous load finished (never two at
 * once, so a slow server is never asked faster than it answers), not while the tab is hidden
 * (and at once when it shows again). `stop()` ends it; `now()` loads at once.
 * @param {() => Promise<void>} load
 * @param {number} seconds
 */
export function refresher(load, seconds) {
  let interval = seconds;
  let timer;
  let running = false;
  let stopped = false;
  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && interval > 0 && !document.hidden) timer = setTimeout(run, interval * 1000);
  };
  const run = async () => {
    if (running || stopped) return;
    running = true;
    clearTimeout(timer);
    try {
      await load();
    } finally {
      running = false;
      schedule();
    }
  };
  const onVisible = () => {
    if (document.hidden) clearTimeout(timer);
    else void run();
  };
  document.addEventListener('visibilitychange', onVisible);
  void run();
  return {
    now: run,
    set(seconds) {
      interval = seconds;
      schedule();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    },
  };
}

/**
 * The refresh bar pages put above their data: interval selector (remembered per page), a
 * "Refresh now" button, when the data was last loaded, and any failure to load.
 * @param {{ page: string, load: () => Promise<void>, fallback?: number }} o
 */
export function refreshBar(o) {
  const status = h('span', { class: 'updated', 'aria-live': 'polite' });
  const problem = h('div', { class: 'load-problem' });
  const seconds = remembered(`${o.page}.refresh`, o.fallback ?? 5);
  const load = async () => {
    try {
      await o.load();
      fill(problem);
      fill(status, `Updated ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 401) return;
      fill(problem, notice('error', `Could not load: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  const r = refresher(load, seconds);
  const select = selectField({
    name: `${o.page}-refresh`,
    label: 'Refresh',
    value: seconds,
    options: REFRESH_CHOICES,
    onchange: (v) => {
      remember(`${o.page}.refresh`, Number(v));
      r.set(Number(v));
    },
  });
  const bar = h(
    'div',
    { class: 'toolbar' },
    select,
    h('button', { type: 'button', onclick: () => void r.now() }, 'Refresh now'),
    status,
  );
  return { bar, problem, refresh: r.now, stop: r.stop };
}

/** A short-lived message at the bottom of the window. */
export function toast(kind, text) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/** The message of a failure, with the key a config error names. */
export function failureText(e) {
  if (e instanceof ApiFailure) {
    if (e.key && !e.message.includes(e.key)) return `${e.key}: ${e.message}`;
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

/** A button that asks once more before acting: the first click turns it into `confirmLabel` for
 * a few seconds, a second click runs `action`. No modal dialog (none blocks the page). */
export function confirmButton(label, confirmLabel, action, attrs = {}) {
  let armed;
  const b = h(
    'button',
    {
      type: 'button',
      ...attrs,
      onclick: async () => {
        if (!armed) {
          b.textContent = confirmLabel;
          b.classList.add('armed');
          armed = setTimeout(() => {
            armed = undefined;
            b.textContent = label;
            b.classList.remove('armed');
          }, 4000);
          return;
        }
        clearTimeout(armed);
        armed = undefined;
        b.textContent = label;
        b.classList.remove('armed');
        b.disabled = true;
        try {
          await action();
        } finally {
          b.disabled = false;
        }
      },
    },
    label,
  );
  return b;
}

/** What a saved change did (ConfigUpdateResult), said plainly. */
export function updateResult(head, r) {
  const keys = (list) => list.map((k, i) => [i ? ', ' : '', h('code', null, k)]);
  return h(
    'div',
    { class: 'notice ok result', role: 'status' },
    h('strong', null, head),
    r.applied && r.applied.length
      ? h('p', { class: 'applied' }, 'Applied now: ', keys(r.applied), '.')
      : null,
    r.later && r.later.length
      ? h('p', { class: 'later' }, 'Waits for a restart: ', keys(r.later), '.')
      : null,
    r.saved
      ? h(
          'p',
          { class: 'saved' },
          'Saved to ',
          h('code', null, r.file ?? 'the config file'),
          '.',
          r.note ? ` ${r.note}` : '',
        )
      : h('p', { class: 'saved' }, `Not saved to a file: ${r.note ?? 'it lasts until the server restarts'}`),
  );
}
