/** Long-running third-party publishers for live tests, always killed at the end. */
import { spawn, type ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export interface Publisher {
  child: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

/** `onStdout`: what the process writes to standard output (ignored without it). */
export function spawnPublisher(cmd: string, args: string[], onStdout?: (d: string) => void): Publisher {
  const child = spawn(cmd, args, { stdio: ['ignore', onStdout ? 'pipe' : 'ignore', 'pipe'] });
  if (onStdout) child.stdout?.setEncoding('utf8').on('data', onStdout);
  running.add(child);
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (log.length < 200_000) log += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      running.delete(child);
    },
  };
}

/** ffmpeg looping a file into an RTSP server with ANNOUNCE/RECORD. */
export function ffmpegPublish(file: string, url: string, transport: 'tcp' | 'udp'): Publisher {
  return spawnPublisher('ffmpeg', ['-hide_banner', '-loglevel', 'warning', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', transport, url]);
}

/** An ffmpeg viewer reading `url` over TCP until stopped (as a Publisher: killed at the end),
 * decoding its video (`map`, default `0:v`; `copy` only demuxes), with the frames it has had
 * so far (its -progress reports). */
export function ffmpegViewer(url: string, opts: { map?: string; copy?: boolean } = {}): Publisher & { frames: () => number } {
  let frames = 0;
  const args = ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-map', opts.map ?? '0:v', ...(opts.copy ? ['-c', 'copy'] : []), '-f', 'null', '-'];
  const p = spawnPublisher('ffmpeg', [...args, '-progress', 'pipe:1', '-stats_period', '0.25'], (d) => {
    for (const m of d.matchAll(/^frame=(\d+)$/gm)) frames = Math.max(frames, Number(m[1]));
  });
  return { ...p, frames: () => frames };
}
