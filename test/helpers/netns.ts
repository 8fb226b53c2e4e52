/** A private network namespace for multicast tests: only its own loopback, up, with multicast on
 * it and the multicast range routed there, so nothing a test sends leaves 127.0.0.1. Root makes
 * one alone; anyone else needs a user namespace around it (`unshare -r`). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { until } from './rtsp-client.js';

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
