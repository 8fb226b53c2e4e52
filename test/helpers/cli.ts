/** The `rivulet` command line as a user runs it (a child process from source), and what a player
 * asking for a path sees, for tests that drive a `rivulet serve` child. */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from './fixtures.js';
import { RawRtspClient } from './rtsp-client.js';
import { run, type RunResult } from './run.js';

const MAIN = join(repoRoot, 'src/cli/main.ts');

/** `rivulet ARGS`, killed after a minute. */
export function rivulet(...args: string[]): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeoutMs: 60_000 });
}

/** The status a DESCRIBE of `path` gets from the server on 127.0.0.1:`port`. */
export async function describeStatus(port: number, path: string): Promise<number> {
  const c = await RawRtspClient.connect(port);
  try {
    return (await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/${path}`)).status;
  } finally {
    c.close();
  }
}

/** Waits until a DESCRIBE of `path` gets `status`; throws with the last one after `ms`. */
export async function waitDescribe(port: number, path: string, status = 200, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  let last = 0;
  while (Date.now() < end) {
    last = await describeStatus(port, path);
    if (last === status) return;
    await sleep(200);
  }
  throw new Error(`DESCRIBE rtsp://127.0.0.1:${port}/${path} still answers ${last}, not ${status}, after ${ms} ms`);
}

/** Ends a `rivulet serve` child (SIGTERM, SIGKILL if it lingers) and waits for it. */
export async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 8000);
  await exited;
  clearTimeout(kill);
}
