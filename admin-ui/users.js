// Connected users: every client, whatever it speaks (DSS's columns: type, IP address, bit rate,
// bytes sent, % packet loss, time connected, URL), sortable, filtered, a page at a time, each
// with a Disconnect button.
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
  sortRows,
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
  icy: 'MP3 (ICY)',
  http: 'HTTP',
};

const PAGE_SIZES = [10, 25, 50, 100, 500];

const COLUMNS = [
  { key: 'type', label: 'Type', sort: (r) => r.kind },
  { key: 'address', label: 'IP address', sort: (r) => r.address },
  { key: 'bitrate', label: 'Bit rate', numeric: true, sort: (r) => r.bitrateKbps },
  { key: 'bytes', label: 'Bytes sent', numeric: true, sort: (r) => r.bytesSent },
  { key: 'loss', label: '% packet loss', numeric: true, sort: (r) => r.lossPercent },
  { key: 'time', label: 'Time connected', numeric: true, sort: (r) => -r.startedAt },
  { key: 'url', label: 'URL', sort: (r) => r.url },
  { key: 'action', label: 'Action' },
];

/** @param {HTMLElement} main */
export function mount(main) {
  let sessions = [];
  let pageSize = remembered('users.pageSize', 25);
  let page = 0;
  let filter = '';
  const sorting = sortable('users', { key: 'time', dir: -1 }, () => render());
  const box = h('div', { id: 'sessions' });
  const pager = h('div', { class: 'pager' });
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });

  const disconnect = async (row, button) => {
    button.disabled = true;
    try {
      await api('DELETE', `/sessions/${enc(row.id)}`);
      toast('ok', `Disconnected ${row.address} (${row.url})`);
      sessions = sessions.filter((s) => s.id !== row.id);
      render();
    } catch (e) {
      // Gone already (404): it left by itself; the list is reloaded either way.
      toast('error', `Could not disconnect ${row.address}: ${failureText(e)}`);
    }
    await refresh.refresh();
  };

  const render = () => {
    const q = filter.trim().toLowerCase();
    const shown = sortRows(
      sessions.filter(
        (s) =>
          !q ||
          [s.address, s.url, s.kind, KINDS[s.kind], s.user, s.userAgent, s.transport].some(
            (v) => v && String(v).toLowerCase().includes(q),
          ),
      ),
      COLUMNS,
      sorting.by,
    );
    const pages = Math.max(1, Math.ceil(shown.length / pageSize));
    page = Math.min(page, pages - 1);
    const rows = shown.slice(page * pageSize, (page + 1) * pageSize);
    const now = serverNow();
    fill(
      summary,
      sessions.length === shown.length
        ? `${int(sessions.length)} connected`
        : `${int(shown.length)} of ${int(sessions.length)} connected match`,
    );
    fill(
      box,
      table({
        columns: COLUMNS,
        rows,
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
          dataValue(r.lossPercent, percent(r.lossPercent), `${int(r.packetsLost)} packets lost`),
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
            h(
              'button',
              { type: 'button', disabled: page === 0, onclick: () => ((page -= 1), render()) },
              '‹ Previous',
            ),
            h('span', null, `Page ${page + 1} of ${pages}`),
            h(
              'button',
              { type: 'button', disabled: page >= pages - 1, onclick: () => ((page += 1), render()) },
              'Next ›',
            ),
          ]
        : [],
    );
  };

  const load = async () => {
    const r = await api('GET', '/sessions');
    sessions = r.sessions;
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
      render();
    },
  });
  const search = searchField({
    name: 'filter',
    label: 'Filter',
    placeholder: 'address, URL, type…',
    oninput: (v) => ((filter = v), (page = 0), render()),
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
