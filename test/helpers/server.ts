/** Starts a real Rivulet server in this process on 127.0.0.1 and a free port, or the real
 * `rivulet serve` command as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createLogger, type Logger } from '../../src/logging/index.js';
import { RivuletServer } from '../../src/server/index.js';
import { repoRoot } from './fixtures.js';

export interface TestServer {
  server: RivuletServer;
  port: number;
  /** The radio port (radio.ports=0 unless the test says otherwise; 0 when none). */
  radioPort: number;
  url(path: string): string;
  /** Lines the server logged (text format). */
  logs: string[];
  close(): Promise<void>;
}

/** `configFile`: a YAML config under the `sets` (for what `--set` cannot say, e.g. `paths:`). */
/** `manageConfigFile`: the server knows `configFile` as `rivulet serve --config` does: it
 * watches it, reloads from it (with `sets` still winning), and the admin's changes are saved
 * there. Off by default, so tests that edit their file decide when the server reloads. */
export async function startServer(opts: { mediaDir: string; sets?: string[]; configFile?: string; manageConfigFile?: boolean; log?: boolean }): Promise<TestServer> {
  // Playlist state, logs and the control socket go to a scratch folder of this server's, unless
  // the test names its own.
  const scratch = tempDir('rivulet-state-');
  // admin.port=0: the admin is off unless a test turns it on (on a free port of its own).
  // radio.ports=0: a free radio port per server, not DSS's 8000 every test would share.
  const sets = ['rtsp.ports=0', 'rtsp.bind=127.0.0.1', 'radio.ports=0', 'radio.bind=127.0.0.1', 'admin.port=0', `media.dir=${opts.mediaDir}`, `state.folder=${scratch.dir}/state`, `logs.folder=${scratch.dir}/logs`, ...(opts.sets ?? [])];
  const reloadConfig = (text?: string) => loadConfig({ configFile: opts.configFile, sets, text });
  const config = reloadConfig();
  const logs: string[] = [];
  const log: Logger = createLogger({
    level: 'debug',
    write: (l) => {
      logs.push(l);
      if (opts.log || process.env.RIVULET_TEST_LOG) process.stderr.write(l);
    },
  });
  const managed = opts.manageConfigFile && opts.configFile !== undefined ? { configFile: opts.configFile, reloadConfig } : {};
  const server = new RivuletServer({ config, log, ...managed });
  await server.start();
  const port = server.port;
  return {
    server,
    port,
    radioPort: server.radioPorts[0] ?? 0,
    logs,
    url: (p) => `rtsp://127.0.0.1:${port}/${p.replace(/^\//, '')}`,
    close: async () => {
      await server.stop();
      scratch.cleanup();
    },
  };
}

/** A scratch folder removed by the returned cleanup. */
export function tempDir(prefix = 'rivulet-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const cliChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of cliChildren) c.kill('SIGKILL');
});

/** `rivulet serve ARGS` from source as a child process (killed when the test process exits);
 * `port` resolves with the port it logs, or rejects if it exits first. */
export function serveCli(args: string[]): { child: ChildProcess; out: () => string; port: Promise<number> } {
  // The admin's fixed default port (1220) would collide between tests, and the log files would
  // land in the repository: off and in a scratch folder unless the test says otherwise.
  const defaults: string[] = [];
  if (!args.some((a) => a.startsWith('admin.port='))) defaults.push('--set', 'admin.port=0');
  if (!args.some((a) => a.startsWith('radio.ports='))) defaults.push('--set', 'radio.ports=0');
  if (!args.some((a) => a.startsWith('logs.folder=')) && !args.includes('--config')) {
    const logs = tempDir('rivulet-logs-');
    process.once('exit', logs.cleanup);
    defaults.push('--set', `logs.folder=${logs.dir}`);
  }
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', ...defaults, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cliChildren.add(child);
  child.once('exit', () => cliChildren.delete(child));
  let out = '';
  const port = new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening for RTSP on port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
  return { child, out: () => out, port };
}
