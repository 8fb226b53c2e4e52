/** A private network namespace for multicast tests: only its own loopback, up, with multicast on
 * it and the multicast range routed there, so nothing a test sends leaves 127.0.0.1. Root makes
 * one alone; anyone else needs a user namespace around it (`unshare -r`). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { stopServe } from './cli.js';
import { repoRoot } from './fixtures.js';
import { until } from './rtsp-client.js';
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

  close(): void {
    if (this.#holder.exitCode === null && this.#holder.signalCode === null) this.#holder.kill('SIGKILL');
  }
}

/** A test's gate for a namespace it could not make: false when it can go on; otherwise skips it
 * (outside CI) or fails it (in CI, as root, where the namespace must work), and says true. */
export function namespaceGate(problem: string | undefined, what: string): (t: TestContext) => boolean {
  return (t) => {
    if (problem === undefined) return false;
    if (inCI && asRoot) throw new Error(problem);
    missingTool(t, what, problem);
    return true;
  };
}

/** `rivulet serve --config FILE` inside the namespace, from source, on a free RTSP port. */
export interface ServedInside {
  child: ChildProcess;
  port: number;
  /** What it printed so far (bounded). */
  out(): string;
  stop(): Promise<void>;
}

/** Writes `config` (JSON is YAML) to `dir`/rivulet.yaml and serves it inside `ns`; resolves once
 * it listens, with the port it logged. */
export async function serveInside(ns: Namespace, dir: string, config: Record<string, unknown>): Promise<ServedInside> {
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
