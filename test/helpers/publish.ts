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

export function spawnPublisher(cmd: string, args: string[]): Publisher {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
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
