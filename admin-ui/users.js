// Connected users: every client, whatever it speaks (DSS's columns: type, IP address, bit rate,
// bytes sent, % packet loss, time connected, URL), sortable, filtered, each with a Disconnect
// button. A page at a time from the server (GET /sessions with limit, offset, q and sort): a
// busy server may have many thousands of clients, which the page never fetches all at once.
import {
  api,
  bytes,
  dataValue,
  duration,
  enc,
  failureText,
  fill,
  h,
  int,
  kbps,
  notice,
  percent,
  refreshBar,
  remember,
  remembered,
  searchField,
  selectField,
  serverNow,
  sortable,
  table,
  toast,
} from './lib.js';

export const title = 'Connected users';

/** What each kind of client is called. */
const KINDS = {
  'rtsp-file': 'RTSP file',
  'rtsp-live': 'RTSP live',
  publisher: 'Publisher',
  'http-tunnel': 'HTTP tunnel',
  relay: 'Relay',
  icy: 'Radio (ICY)',
  http: 'HTTP',
};

const PAGE_SIZES = [10, 25, 50, 100, 500];

/** `server`: what GET /sessions sorts by for the column in ascending order. */
const COLUMNS = [
  { key: 'type', label: 'Type', sort: true, server: 'kind' },
  { key: 'address', label: 'IP address', sort: true, server: 'address' },
  { key: 'bitrate', label: 'Bit rate', numeric: true, sort: true, server: 'bitrateKbps' },
  { key: 'bytes', label: 'Bytes sent', numeric: true, sort: true, server: 'bytesSent' },
  { key: 'loss', label: '% packet loss', numeric: true, sort: true, server: 'lossPercent' },
  // Shortest time connected first when ascending: the latest start first.
  { key: 'time', label: 'Time connected', numeric: true, sort: true, server: '-startedAt' },
  { key: 'url', label: 'URL', sort: true, server: 'url' },
  { key: 'action', label: 'Action' },
];

/** The `sort` parameter for the table's order (`{ key, dir }`), '' for the server's own. */
function serverSort(by) {
  const field = COLUMNS.find((c) => c.key === by?.key)?.server;
  if (!field) return '';
  const descending = field.startsWith('-') !== by.dir < 0;
  return `${descending ? '-' : ''}${field.replace(/^-/, '')}`;
}

/** @param {HTMLElement} main */
export function mount(main) {
  let sessions = [];
  let total = 0;
  let pageSize = remembered('users.pageSize', 25);
  if (!PAGE_SIZES.includes(pageSize)) pageSize = 25;
  let page = 0;
  let filter = '';
  const sorting = sortable('users', { key: 'time', dir: -1 }, () => ((page = 0), void refresh.refresh()));
  const box = h('div', { id: 'sessions' });
  const pager = h('div', { class: 'pager' });
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });

  const disconnect = async (row, button) => {
    button.disabled = true;
    try {
      await api('DELETE', `/sessions/${enc(row.id)}`);
      toast('ok', `Disconnected ${row.address} (${row.url})`);
      sessions = sessions.filter((s) => s.id !== row.id);
      total = Math.max(0, total - 1);
      render();
    } catch (e) {
      // Gone already (404): it left by itself; the list is reloaded either way.
      toast('error', `Could not disconnect ${row.address}: ${failureText(e)}`);
    }
    await refresh.refresh();
  };

  const go = (to) => {
    page = to;
    void refresh.refresh();
  };

  const render = () => {
    const q = filter.trim();
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const now = serverNow();
    fill(summary, q ? `${int(total)} connected match “${q}”` : `${int(total)} connected`);
    fill(
      box,
      table({
        columns: COLUMNS,
        rows: sessions,
        empty: q ? 'Nobody connected matches the filter.' : 'Nobody is connected.',
        sort: sorting.by,
        onSort: sorting.onSort,
        rowAttrs: (r) => ({ 'data-session': r.id }),
        cells: (r) => [
          h(
            'span',
            null,
            KINDS[r.kind] ?? r.kind,
            h('small', { class: 'sub' }, [r.protocol, r.transport].filter(Boolean).join(' · ')),
          ),
          h('span', null, r.address, r.user ? h('small', { class: 'sub' }, `user ${r.user}`) : null),
          dataValue(r.bitrateKbps, kbps(r.bitrateKbps)),
          dataValue(
            r.bytesSent,
            bytes(r.bytesSent),
            `${int(r.bytesSent)} bytes, ${int(r.packetsSent)} packets`,
          ),
          dataValue(
            r.lossPercent,
            percent(r.lossPercent),
            `${int(r.packetsLost)} packets lost${r.packetsResent !== undefined ? `, ${int(r.packetsResent)} sent again` : ''}`,
          ),
          h('span', { title: new Date(r.startedAt).toISOString() }, duration((now - r.startedAt) / 1000)),
          h('span', { class: 'url', title: r.userAgent ? `User agent: ${r.userAgent}` : undefined }, r.url),
          h(
            'button',
            {
              type: 'button',
              class: 'danger small',
              'aria-label': `Disconnect ${r.address} ${r.url}`,
              onclick: (e) => void disconnect(r, e.currentTarget),
            },
            'Disconnect',
          ),
        ],
      }),
    );
    fill(
      pager,
      pages > 1
        ? [
            h('button', { type: 'button', disabled: page === 0, onclick: () => go(page - 1) }, '‹ Previous'),
            h('span', null, `Page ${page + 1} of ${pages}`),
            h(
              'button',
              { type: 'button', disabled: page >= pages - 1, onclick: () => go(page + 1) },
              'Next ›',
            ),
          ]
        : [],
    );
  };

  /** What the page asks the server for now. */
  const query = () => {
    const p = new URLSearchParams({ limit: String(pageSize), offset: String(page * pageSize) });
    if (filter.trim()) p.set('q', filter.trim());
    const sort = serverSort(sorting.by);
    if (sort) p.set('sort', sort);
    return p.toString();
  };

  const load = async () => {
    // Asked again while one is on its way (a page, a filter typed): loaded again for what is
    // asked now, so the last answer shown is the one for the last question.
    for (let asked = query(), tries = 0; tries < 5; asked = query(), tries++) {
      const r = await api('GET', `/sessions?${asked}`);
      if (asked !== query()) continue;
      sessions = r.sessions;
      total = r.total;
      // The clients of the last page left: show the page that is now the last.
      const last = Math.max(0, Math.ceil(total / pageSize) - 1);
      if (page > last) {
        page = last;
        continue;
      }
      break;
    }
    render();
  };

  const refresh = refreshBar({ page: 'users', load });
  const size = selectField({
    name: 'page-size',
    label: 'Show',
    value: pageSize,
    options: PAGE_SIZES.map((n) => [n, `${n} a page`]),
    onchange: (v) => {
      pageSize = Number(v);
      remember('users.pageSize', pageSize);
      page = 0;
      void refresh.refresh();
    },
  });
  const search = searchField({
    name: 'filter',
    label: 'Filter',
    placeholder: 'address, URL, type…',
    oninput: (v) => ((filter = v), (page = 0), void refresh.refresh()),
  });
  refresh.bar.append(size, search);
  main.append(
    h('h1', null, 'Connected users'),
    refresh.bar,
    refresh.problem,
    summary,
    box,
    pager,
    notice(
      'info',
      'Disconnect ends the client’s session the way its protocol says goodbye; a player may connect again by itself.',
    ),
  );
  return { stop: refresh.stop };
}
