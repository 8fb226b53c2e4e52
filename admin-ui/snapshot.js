// Snapshot: DSS's server snapshot (status, start time, current time, uptime, version, CPU load,
// connections, throughput, bytes served, total connections) and the live paths with their
// viewers. The clock and uptime tick every second in the browser between loads.
import {
  api,
  bytes,
  dataValue,
  dateTime,
  duration,
  fill,
  h,
  int,
  kbps,
  percent,
  refreshBar,
  SOURCE_STATE_BADGE,
  table,
} from './lib.js';

export const title = 'Snapshot';

/** [id, label] of each figure, in DSS's order. */
const FIGURES = [
  ['status', 'Server status'],
  ['startedAt', 'Start time'],
  ['now', 'Current time'],
  ['uptime', 'Up for'],
  ['version', 'Version'],
  ['hostname', 'Host name'],
  ['cpu', 'CPU load'],
  ['connections', 'Current connections'],
  ['throughput', 'Current throughput'],
  ['bytes', 'Total bytes served'],
  ['total', 'Total connections'],
  ['ports', 'Ports'],
];

const PATH_COLUMNS = [
  { key: 'path', label: 'Path', sort: (p) => p.path },
  { key: 'state', label: 'State' },
  { key: 'source', label: 'Source' },
  { key: 'tracks', label: 'Tracks' },
  { key: 'readers', label: 'Viewers', numeric: true },
];

function portsText(ports) {
  if (!ports) return '–';
  const part = (name, list) => (list && list.length ? `${name} ${list.join(', ')}` : undefined);
  return (
    [
      part('RTSP', ports.rtsp),
      part('HTTP', ports.http),
      part('RTSPS', ports.tls),
      ports.admin ? `admin ${ports.admin}` : undefined,
    ]
      .filter(Boolean)
      .join(' · ') || '–'
  );
}

/** @param {HTMLElement} main */
export function mount(main) {
  /** @type {Record<string, HTMLElement>} */
  const cells = {};
  const grid = h(
    'dl',
    { class: 'figures' },
    FIGURES.map(([id, label]) =>
      h('div', { class: 'figure' }, h('dt', null, label), (cells[id] = h('dd', { id: `stat-${id}` }, '–'))),
    ),
  );
  const pathsBox = h('div', { id: 'live-paths' });
  /** The latest answer, and when (browser clock) it came, for the ticking clock. */
  let latest;
  let latestAt = 0;

  const tick = () => {
    if (!latest) return;
    const since = (Date.now() - latestAt) / 1000;
    fill(cells.now, h('time', { dateTime: latest.now }, dateTime(Date.parse(latest.now) + since * 1000)));
    fill(cells.uptime, duration(latest.uptimeSeconds + since));
  };

  const load = async () => {
    const [s, p] = await Promise.all([api('GET', '/server'), api('GET', '/paths')]);
    latest = s;
    latestAt = Date.now();
    fill(cells.status, h('span', { class: `badge ${s.status === 'running' ? 'good' : 'warn'}` }, s.status));
    fill(cells.startedAt, h('time', { dateTime: s.startedAt }, dateTime(s.startedAt)));
    fill(cells.version, `${s.name ?? 'Rivulet'} ${s.version}`);
    fill(cells.hostname, s.hostname ?? '–');
    fill(cells.cpu, dataValue(s.cpuLoadPercent, percent(s.cpuLoadPercent)));
    fill(cells.connections, dataValue(s.connections, int(s.connections)));
    fill(cells.throughput, dataValue(s.throughputKbps, kbps(s.throughputKbps)));
    fill(
      cells.bytes,
      dataValue(s.totalBytesServed, bytes(s.totalBytesServed), `${int(s.totalBytesServed)} bytes`),
    );
    fill(cells.total, dataValue(s.totalConnections, int(s.totalConnections)));
    fill(cells.ports, portsText(s.ports));
    tick();
    const rows = [...p.paths].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    fill(
      pathsBox,
      table({
        caption: `${rows.filter((r) => r.live).length} of ${rows.length} path${rows.length === 1 ? '' : 's'} live, ${int(rows.reduce((n, r) => n + r.readers, 0))} viewers`,
        columns: PATH_COLUMNS,
        rows,
        empty: 'Nothing is live or configured.',
        rowAttrs: (r) => ({ 'data-path': r.path }),
        cells: (r) => [
          h('code', null, `/${r.path}`),
          h(
            'span',
            { class: `badge ${r.live ? 'good' : (SOURCE_STATE_BADGE[r.state] ?? 'idle')}` },
            r.live ? 'live' : (r.state ?? 'not live'),
          ),
          r.source ? `${r.source.label} (${r.source.kind})` : '–',
          r.tracks.length ? r.tracks.map((t) => `${t.media} ${t.codec}`).join(', ') : '–',
          dataValue(r.readers, int(r.readers)),
        ],
      }),
    );
  };

  const refresh = refreshBar({ page: 'snapshot', load });
  const clock = setInterval(tick, 1000);
  main.append(
    h('h1', null, 'Snapshot'),
    refresh.bar,
    refresh.problem,
    h(
      'section',
      { 'aria-labelledby': 'h-server' },
      h('h2', { id: 'h-server', class: 'visually-hidden' }, 'Server'),
      grid,
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-paths' },
      h('h2', { id: 'h-paths' }, 'Paths and their viewers'),
      pathsBox,
    ),
  );
  return {
    stop() {
      refresh.stop();
      clearInterval(clock);
    },
  };
}
