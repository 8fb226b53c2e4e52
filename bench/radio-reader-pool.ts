/** Reader processes of a benchmark, driven over IPC: forks `procs` copies of a worker module
 * (through tsx, with `env`), and waits event-driven until each has sent a message of a type.
 * A worker that exits before saying 'stopped' fails every wait; so does the pool's time limit. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export class ReaderPool<To extends object, From extends { type: string }> {
  readonly kids: ChildProcess[] = [];
  readonly #inbox = new Map<ChildProcess, From[]>();
  #died: string | undefined;
  #wake: (() => void)[] = [];
  readonly #deadline: number;

  /** `module`: the worker's file URL (import.meta.url); `limitMs`: the whole run's limit. */
  constructor(module: string, procs: number, env: NodeJS.ProcessEnv, limitMs = Infinity) {
    this.#deadline = Date.now() + limitMs;
    for (let i = 0; i < procs; i++) {
      const k = fork(fileURLToPath(module), [], {
        env: { ...process.env, ...env },
        execArgv: ['--import', 'tsx'],
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.kids.push(k);
      this.#inbox.set(k, []);
      k.on('message', (m: From) => {
        this.#inbox.get(k)!.push(m);
        this.#notify();
      });
      k.on('exit', (code, sig) => {
        if (!this.#inbox.get(k)!.some((m) => m.type === 'stopped'))
          this.#died ??= `reader process exited (${code ?? sig})`;
        this.#notify();
      });
    }
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }

  /** The message of `type` each worker sent, in worker order, once all have; undefined when
   * `capMs` passed first. Rejects when a worker died or the pool's limit passed. */
  async gather<T extends From['type']>(
    type: T,
    capMs = Infinity,
  ): Promise<Extract<From, { type: T }>[] | undefined> {
    const until = Math.min(Date.now() + capMs, this.#deadline);
    for (;;) {
      if (this.#died) throw new Error(this.#died);
      const got = this.kids.map((k) =>
        this.#inbox.get(k)!.find((m): m is Extract<From, { type: T }> => m.type === type),
      );
      if (got.every((m) => m !== undefined)) return got;
      const left = until - Date.now();
      if (left <= 0) {
        if (Date.now() >= this.#deadline) throw new Error('no result within the time limit');
        return undefined;
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1000));
        this.#wake.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  tell(m: To): void {
    for (const k of this.kids) k.send(m);
  }

  /** Kills the workers still running. */
  kill(): void {
    for (const k of this.kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
  }
}
