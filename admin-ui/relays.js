// Relays: every leg (a stream pulled into a path, or pushed or forwarded from one) with its
// state, far end, bit rate, bytes relayed, reconnects and last error.
import {
  api,
  bytes,
  dataValue,
  dateTime,
  fill,
  h,
  int,
  kbps,
  notice,
  refreshBar,
  sortable,
  sortRows,
  table,
} from './lib.js';

export const title = 'Relays';

const ROLES = { source: 'pull (source)', push: 'push (announce)', forward: 'forward (UDP)' };
const STATE_BADGE = { playing: 'good', connecting: 'warn', retrying: 'bad', stopped: 'idle' };

const COLUMNS = [
  { key: 'state', label: 'State', sort: (r) => r.state },
  { key: 'path', label: 'Path', sort: (r) => r.path },
  { key: 'role', label: 'Role', sort: (r) => r.role },
  { key: 'target', label: 'Source / destination', sort: (r) => r.target },
  { key: 'bitrate', label: 'Bit rate', numeric: true, sort: (r) => r.bitrateKbps },
  { key: 'in', label: 'Bytes in', numeric: true, sort: (r) => r.bytesIn },
  { key: 'out', label: 'Bytes out', numeric: true, sort: (r) => r.bytesOut },
  { key: 'lost', label: 'Packets lost', numeric: true, sort: (r) => r.packetsLost },
  { key: 'reconnects', label: 'Reconnects', numeric: true, sort: (r) => r.reconnects },
  { key: 'error', label: 'Last error' },
];

/** @param {HTMLElement} main */
export function mount(main) {
  const box = h('div', { id: 'relays' });
  const summary = h('p', { class: 'summary' });
  let relays = [];
  const sorting = sortable('relays', { key: 'path', dir: 1 }, () => render());

  const render = () => {
    const rows = sortRows([...relays], COLUMNS, sorting.by);
    const playing = relays.filter((r) => r.state === 'playing').length;
    fill(
      summary,
      relays.length ? `${relays.length} relay leg${relays.length === 1 ? '' : 's'}, ${playing} playing` : '',
    );
    fill(
      box,
      table({
        columns: COLUMNS,
        rows,
        empty:
          'No relay is configured (paths.<name>.source rtsp://… or udp://…, push and forward destinations).',
        sort: sorting.by,
        onSort: sorting.onSort,
        rowAttrs: (r) => ({ 'data-relay': r.key }),
        cells: (r) => [
          h(
            'span',
            null,
            h('span', { class: `badge ${STATE_BADGE[r.state] ?? 'idle'}` }, r.state),
            r.state === 'retrying' && r.nextAttemptAt
              ? h('small', { class: 'sub' }, `next try ${dateTime(r.nextAttemptAt)}`)
              : null,
          ),
          h('code', null, `/${r.path}`),
          ROLES[r.role] ?? r.role,
          h('span', { class: 'url' }, r.target),
          dataValue(r.bitrateKbps, kbps(r.bitrateKbps)),
          dataValue(r.bytesIn, bytes(r.bytesIn), `${int(r.bytesIn)} bytes`),
          dataValue(r.bytesOut, bytes(r.bytesOut), `${int(r.bytesOut)} bytes`),
          dataValue(r.packetsLost, int(r.packetsLost)),
          dataValue(r.reconnects, int(r.reconnects)),
          r.lastError ? h('span', { class: 'error-text' }, r.lastError) : '–',
        ],
      }),
    );
  };

  const load = async () => {
    const r = await api('GET', '/relays');
    relays = r.relays;
    render();
  };
  const refresh = refreshBar({ page: 'relays', load });
  main.append(
    h('h1', null, 'Relays'),
    refresh.bar,
    refresh.problem,
    summary,
    box,
    notice(
      'info',
      'Relays are configured in the config file (paths.<name>.source, push, forward) or imported from a DSS relayconfig.xml; a change there applies without dropping viewers.',
    ),
  );
  return { stop: refresh.stop };
}
