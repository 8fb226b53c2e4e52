/** The gst-rtsp-server reference peer (../shared/bench/gst_rtsp_peer.py, run with Debian's
 * /usr/bin/python3, which has python3-gi) as a child of a test: started on a free port, ready
 * once it says so, killed at the end. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

export const PEER_SCRIPT = join(repoRoot, '../shared/bench/gst_rtsp_peer.py');

/** Whether the peer can run here (python3-gi and gir1.2-gst-rtsp-server-1.0 installed). */
export function peerAvailable(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', "import gi; gi.require_version('GstRtspServer', '1.0')"], { timeout: 20_000 });
  return r.status === 0;
}

/** A TCP port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export interface GstPeer {
  child: ChildProcess;
  port: number;
  url(path: string): string;
  /** What it printed (stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts the peer in `dir` with `args` (e.g. `--verbose`); rejects when it exits or does not say
 * it is ready within 20 s. */
export async function startGstPeer(dir: string, args: string[] = []): Promise<GstPeer> {
  const port = await freePort();
  const child = spawn('/usr/bin/python3', [PEER_SCRIPT, ...args, '--port', String(port), '--bind', '127.0.0.1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gst-rtsp-server peer not ready within 20 s:\n${log.slice(-2000)}`)), 20_000);
    const onData = (d: Buffer) => {
      if (log.length < 1_000_000) log += d.toString();
      if (/ready: rtsp:/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gst-rtsp-server peer exited (${code}):\n${log.slice(-2000)}`));
    });
  });
  try {
    await ready;
  } catch (e) {
    await stop();
    throw e;
  }
  return { child, port, url: (p) => `rtsp://127.0.0.1:${port}/${p}`, log: () => log, stop };
}
