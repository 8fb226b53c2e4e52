/** Debian's icecast2 as the reference radio peer of a test: a config of its own in a scratch
 * folder (logs, pid, web and admin roots), a free port of 127.0.0.1, run in the foreground as the
 * unprivileged user (icecast2 refuses root), ready once it answers HTTP, killed at the end. */
import { type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './gst-peer.js';
import { spawnUnprivileged, userScratchDir } from './unprivileged.js';

/** Debian's web and admin XSL pages (status-json.xsl lives in web/). */
const SHARE = '/usr/share/icecast2';

/** A `<mount>` section: only needed for per-mount settings. */
export interface IcecastMountOptions {
  /** '/m'. */
  name: string;
  /** Source credentials for this mount only (default: the global source user/password). */
  username?: string;
  password?: string;
  /** ICY metadata interval in bytes (icecast's default 16000). */
  metaint?: number;
  /** Burst sent to a new listener, bytes (default: the global burstSize). */
  burstSize?: number;
  /** Mount listeners move to when this one's source drops. */
  fallback?: string;
  maxListeners?: number;
}

export interface IcecastOptions {
  /** Password of the `source` user. */
  sourcePassword: string;
  /** Default 'admin'. */
  adminUser?: string;
  /** Default 'icecast-admin'. */
  adminPassword?: string;
  mounts?: IcecastMountOptions[];
  /** Listener limit (default 2000, enough for the 1,000-listener benchmark). */
  clients?: number;
  /** Source limit (default 20). */
  sources?: number;
  /** Default 65536, as Rivulet's radio.burstBytes. */
  burstSize?: number;
  /** Seconds before a silent source is dropped (default 10). */
  sourceTimeout?: number;
  /** Per-listener queue in bytes (default 524288, icecast's own). */
  queueSize?: number;
  /** 1 errors … 4 debug (default 3). */
  logLevel?: number;
  /** How long to wait for it to answer HTTP (default 15 s). */
  startTimeoutMs?: number;
}

/** One live mount as /status-json.xsl shows it (fields icecast omits are absent). */
export interface IcecastSource {
  listenurl: string;
  listeners?: number;
  server_type?: string;
  server_name?: string;
  genre?: string;
  title?: string;
  artist?: string;
  bitrate?: number | string;
  [key: string]: unknown;
}

export interface Icecast {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The scratch folder (icecast.xml, error.log, access.log). */
  dir: string;
  child: ChildProcess;
  /** http://127.0.0.1:PORT/mount */
  mountUrl(mount: string): string;
  /** icecast://source:PASSWORD@127.0.0.1:PORT/mount, as ffmpeg takes it. */
  sourceUrl(mount: string, user?: string, password?: string): string;
  /** `Authorization` header value of the admin user. */
  adminAuth: string;
  /** Its error log and what it printed. */
  log(): string;
  /** The mounts that have a source now, by mount name ('/m'). */
  sources(): Promise<Map<string, IcecastSource>>;
  /** Resolves with the mount's status once it has a source; rejects after `timeoutMs`
   * (default 15 s) with the log. */
  waitForMount(mount: string, timeoutMs?: number): Promise<IcecastSource>;
  /** `GET /admin/metadata?mount=…&mode=updinfo&song=…` as the admin; throws unless 200. */
  updateMetadata(mount: string, song: string): Promise<void>;
  stop(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function mountXml(m: IcecastMountOptions): string {
  const e = (tag: string, v: string | number | undefined) => (v === undefined ? '' : `    <${tag}>${xmlEscape(String(v))}</${tag}>\n`);
  return (
    '  <mount type="normal">\n' +
    e('mount-name', m.name) +
    e('username', m.username) +
    e('password', m.password) +
    e('mp3-metadata-interval', m.metaint) +
    e('burst-size', m.burstSize) +
    e('fallback-mount', m.fallback) +
    e('max-listeners', m.maxListeners) +
    '  </mount>\n'
  );
}

function configXml(o: IcecastOptions, port: number, dir: string, adminUser: string, adminPassword: string): string {
  const x = xmlEscape;
  return `<icecast>
  <location>test</location>
  <admin>test@localhost</admin>
  <hostname>127.0.0.1</hostname>
  <limits>
    <clients>${o.clients ?? 2000}</clients>
    <sources>${o.sources ?? 20}</sources>
    <queue-size>${o.queueSize ?? 524288}</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>${o.sourceTimeout ?? 10}</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>${o.burstSize ?? 65536}</burst-size>
  </limits>
  <authentication>
    <source-password>${x(o.sourcePassword)}</source-password>
    <relay-password>${x(o.sourcePassword)}</relay-password>
    <admin-user>${x(adminUser)}</admin-user>
    <admin-password>${x(adminPassword)}</admin-password>
  </authentication>
  <listen-socket>
    <port>${port}</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
${(o.mounts ?? []).map(mountXml).join('')}  <fileserve>1</fileserve>
  <paths>
    <basedir>${x(dir)}</basedir>
    <logdir>${x(dir)}</logdir>
    <pidfile>${x(join(dir, 'icecast.pid'))}</pidfile>
    <webroot>${SHARE}/web</webroot>
    <adminroot>${SHARE}/admin</adminroot>
  </paths>
  <logging>
    <accesslog>access.log</accesslog>
    <errorlog>error.log</errorlog>
    <loglevel>${o.logLevel ?? 3}</loglevel>
    <logsize>10000</logsize>
  </logging>
  <security>
    <chroot>0</chroot>
  </security>
</icecast>
`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts icecast2; rejects (after cleaning up) when it exits or does not answer in time. */
export async function startIcecast(opts: IcecastOptions): Promise<Icecast> {
  const adminUser = opts.adminUser ?? 'admin';
  const adminPassword = opts.adminPassword ?? 'icecast-admin';
  const scratch = userScratchDir('rivulet-icecast-');
  const dir = scratch.dir;
  const port = await freePort();
  const configFile = join(dir, 'icecast.xml');
  writeFileSync(configFile, configXml(opts, port, dir, adminUser, adminPassword));

  const { child } = spawnUnprivileged('icecast2', ['-c', configFile], { home: dir });
  let out = '';
  const onData = (d: Buffer) => {
    if (out.length < 200_000) out += d.toString();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) =>
    child.once('close', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      r();
    }),
  );
  child.once('error', (e) => onData(Buffer.from(`spawn error: ${e.message}\n`)));

  const url = `http://127.0.0.1:${port}`;
  const log = () => {
    let errorLog = '';
    try {
      errorLog = readFileSync(join(dir, 'error.log'), 'utf8').slice(-20_000);
    } catch {
      // Not written yet.
    }
    return `${out}${errorLog}`;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(t);
    }
    scratch.cleanup();
  };
  const adminAuth = `Basic ${Buffer.from(`${adminUser}:${adminPassword}`).toString('base64')}`;

  const sources = async (): Promise<Map<string, IcecastSource>> => {
    const res = await fetch(`${url}/status-json.xsl`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`icecast2 /status-json.xsl: ${res.status} ${text.slice(0, 200)}`);
    const j = JSON.parse(text) as { icestats?: { source?: IcecastSource | IcecastSource[] } };
    // One source is an object, several an array, none absent.
    const list = j.icestats?.source === undefined ? [] : Array.isArray(j.icestats.source) ? j.icestats.source : [j.icestats.source];
    return new Map(list.map((s) => [new URL(s.listenurl).pathname, s]));
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  for (;;) {
    if (exitCode !== undefined) {
      const l = log();
      await stop();
      throw new Error(`icecast2 exited (${exitCode}) before answering:\n${l.slice(-3000)}`);
    }
    try {
      await sources();
      break;
    } catch {
      if (Date.now() > deadline) {
        const l = log();
        await stop();
        throw new Error(`icecast2 did not answer HTTP on ${url} within ${opts.startTimeoutMs ?? 15_000} ms:\n${l.slice(-3000)}`);
      }
      await sleep(100);
    }
  }

  const path = (mount: string) => (mount.startsWith('/') ? mount : `/${mount}`);
  return {
    port,
    url,
    dir,
    child,
    adminAuth,
    log,
    sources,
    stop,
    mountUrl: (m) => `${url}${path(m)}`,
    sourceUrl: (m, user = 'source', password = opts.sourcePassword) =>
      `icecast://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}${path(m)}`,
    waitForMount: async (mount, timeoutMs = 15_000) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const s = (await sources()).get(path(mount));
        if (s) return s;
        if (Date.now() > end) throw new Error(`icecast2: no source on ${path(mount)} within ${timeoutMs} ms:\n${log().slice(-3000)}`);
        await sleep(100);
      }
    },
    updateMetadata: async (mount, song) => {
      const q = new URLSearchParams({ mount: path(mount), mode: 'updinfo', song });
      const res = await fetch(`${url}/admin/metadata?${q.toString()}`, { headers: { Authorization: adminAuth } });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`icecast2 updinfo ${path(mount)}: ${res.status} ${body.slice(0, 300)}`);
    },
  };
}
