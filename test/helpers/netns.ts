/** A private network namespace for multicast tests: only its own loopback, up, with multicast on
 * it and the multicast range routed there, so nothing a test sends leaves 127.0.0.1. Root makes
 * one alone; anyone else needs a user namespace around it (`unshare -r`). */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { stopServe } from './cli.js';
import { repoRoot } from './fixtures.js';
import { spawnPublisher, type Publisher } from './publish.js';
import { run, type RunResult } from './run.js';
import { until } from './rtsp-client.js';
import { tempDir } from './server.js';
import { inCI, missingTool } from './tools.js';

export const asRoot = process.getuid?.() === 0;

/** Loopback up, multicast on it, and the multicast range routed there. */
const SETUP = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';

/** Why a private network namespace with a multicast route cannot be made here (`tools` must be
 * installed too), or undefined. */
export function namespaceProblem(tools: string[] = []): string | undefined {
  for (const tool of ['unshare', 'nsenter', 'ip', ...tools]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const r = spawnSync('unshare', [asRoot ? '-n' : '-rn', 'sh', '-c', SETUP], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0) return undefined;
  return `unshare ${asRoot ? '-n' : '-rn'} sh -c '${SETUP}' failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim()}`;
}

/** A network namespace held open by a `sleep` in it; programs run inside with `nsenter`. */
export class Namespace {
  readonly #holder: ChildProcess;
  readonly pid: number;

  private constructor(holder: ChildProcess) {
    this.#holder = holder;
    this.pid = holder.pid!;
  }

  static async open(): Promise<Namespace> {
    const holder = spawn('unshare', [asRoot ? '-n' : '-rn', 'sh', '-c', `${SETUP} && echo ready && exec sleep 3600`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    holder.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const ns = new Namespace(holder);
    if (!(await until(() => out.includes('ready'), 10_000, 20))) {
      ns.close();
      throw new Error(`the namespace did not come up: ${out}`);
    }
    return ns;
  }

  /** `cmd args` as run inside the namespace. */
  argv(cmd: string, args: string[]): [string, string[]] {
    const enter = ['-t', String(this.pid), '-n', ...(asRoot ? [] : ['-U', '--preserve-credentials'])];
    return ['nsenter', [...enter, cmd, ...args]];
  }

  /** `cmd args` run to the end inside the namespace. */
  run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return run(...this.argv(cmd, args), opts);
  }

  /** One `nft` command inside the namespace; it must succeed. */
  async nft(command: string): Promise<void> {
    const r = await this.run('nft', command.split(' '), { timeoutMs: 10_000 });
    assert.equal(r.code, 0, `nft ${command}: ${r.stderr}`);
  }

  /** Table `table` (inet) with `rule` on the input hook: a drop there loses a datagram on its
   * way in (a drop on output would fail the sender's send call instead). Gone with
   * `nft('delete table inet TABLE')`. */
  async inputRule(table: string, rule: string): Promise<void> {
    await this.nft(`add table inet ${table}`);
    await this.nft(`add chain inet ${table} in { type filter hook input priority 0 ; }`);
    await this.nft(`add rule inet ${table} in ${rule}`);
  }

  close(): void {
    if (this.#holder.exitCode === null && this.#holder.signalCode === null) this.#holder.kill('SIGKILL');
  }
}

/** A test's gate for a namespace it could not make: false when it can go on; otherwise skips it
 * (outside CI) or fails it (in CI, as root, where the namespace must work), and says true. */
function namespaceGate(problem: string | undefined, what: string): (t: TestContext) => boolean {
  return (t) => {
    if (problem === undefined) return false;
    if (inCI && asRoot) throw new Error(problem);
    missingTool(t, what, problem);
    return true;
  };
}

/** `rivulet serve --config FILE` inside the namespace, from source, on a free RTSP port. */
interface ServedInside {
  child: ChildProcess;
  port: number;
  /** What it printed so far (bounded). */
  out(): string;
  stop(): Promise<void>;
}

/** Writes `config` (JSON is YAML) to `dir`/rivulet.yaml and serves it inside `ns`; resolves once
 * it listens, with the port it logged. */
async function serveInside(ns: Namespace, dir: string, config: Record<string, unknown>): Promise<ServedInside> {
  const configFile = join(dir, 'rivulet.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const [cmd, args] = ns.argv(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', '--config', configFile, '--rtsp-port', '0', '--bind', '127.0.0.1']);
  const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer) => {
    if (out.length < 4_000_000) out += d.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  await until(() => /listening for RTSP on port \d+/.test(out) || child.exitCode !== null, 30_000, 50);
  const port = Number(/listening for RTSP on port (\d+)/.exec(out)?.[1] ?? 0);
  if (!(port > 0)) {
    child.kill('SIGKILL');
    throw new Error(`the server did not start:\n${out.slice(-3000)}`);
  }
  return { child, port, out: () => out, stop: () => stopServe(child) };
}

/** The JSON result a viewer program printed as its last line of `stdout`; `why` says what went
 * wrong when there is none. */
export function lastJsonLine<T>(stdout: string, why: () => string): T {
  const line = stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `the viewer printed no result ${why()}`);
  return JSON.parse(line) as T;
}

/** A describe block's namespace with `rivulet serve` in it, made before its tests and undone
 * after them. */
export interface NamespaceSuite {
  /** Why the namespace cannot be made here, or undefined. */
  readonly problem: string | undefined;
  /** Each test's gate (see namespaceGate). */
  readonly unavailable: (t: TestContext) => boolean;
  readonly ns: Namespace;
  /** The server's folder (media, state, logs, its config). */
  readonly dir: string;
  /** The server's RTSP port. */
  readonly port: number;
  /** What the server printed so far. */
  readonly serverOut: () => string;
  /** A long-running program inside the namespace, stopped at the end. */
  readonly spawn: (cmd: string, args: string[], onStdout?: (d: string) => void) => Publisher;
}

/** Registers the before/after hooks of a namespace suite: the namespace (needing `tools` besides
 * unshare, nsenter and ip; `what` names them when missing), a temporary folder, `prepare` (files,
 * rules), the server with `config` over the common settings (no control socket, admin or radio
 * ports), then `started` (publishers). */
export function namespaceSuite(opts: {
  tools: string[];
  what: string;
  tempPrefix: string;
  config: Record<string, unknown>;
  prepare?: (s: NamespaceSuite) => Promise<void>;
  started?: (s: NamespaceSuite) => Promise<void>;
}): NamespaceSuite {
  const problem = namespaceProblem(opts.tools);
  let ns: Namespace | undefined;
  let dir: { dir: string; cleanup: () => void } | undefined;
  let server: ServedInside | undefined;
  const children: Publisher[] = [];
  const suite: NamespaceSuite = {
    problem,
    unavailable: namespaceGate(problem, opts.what),
    get ns() {
      return ns!;
    },
    get dir() {
      return dir!.dir;
    },
    get port() {
      return server?.port ?? 0;
    },
    serverOut: () => server?.out() ?? '',
    spawn: (cmd, args, onStdout) => {
      const p = spawnPublisher(...ns!.argv(cmd, args), onStdout);
      children.push(p);
      return p;
    },
  };
  before(async () => {
    if (problem !== undefined) return;
    ns = await Namespace.open();
    dir = tempDir(opts.tempPrefix);
    await opts.prepare?.(suite);
    server = await serveInside(ns, dir.dir, {
      media: { dir: dir.dir },
      state: { folder: join(dir.dir, 'state') },
      logs: { folder: join(dir.dir, 'logs') },
      control: { socket: '' },
      admin: { port: 0 },
      radio: { ports: [] },
      ...opts.config,
    });
    await opts.started?.(suite);
  });
  after(async () => {
    for (const c of children.reverse()) await c.stop();
    await server?.stop();
    ns?.close();
    dir?.cleanup();
  });
  return suite;
}
