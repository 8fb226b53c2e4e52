/** Starts a real Rivulet server in this process on 127.0.0.1 and a free port. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createLogger, type Logger } from '../../src/logging/index.js';
import { RivuletServer } from '../../src/server/index.js';

export interface TestServer {
  server: RivuletServer;
  port: number;
  url(path: string): string;
  /** Lines the server logged (text format). */
  logs: string[];
  close(): Promise<void>;
}

export async function startServer(opts: { mediaDir: string; sets?: string[]; log?: boolean }): Promise<TestServer> {
  const config = loadConfig({
    sets: ['rtsp.ports=0', 'rtsp.bind=127.0.0.1', `media.dir=${opts.mediaDir}`, ...(opts.sets ?? [])],
  });
  const logs: string[] = [];
  const log: Logger = createLogger({
    level: 'debug',
    write: (l) => {
      logs.push(l);
      if (opts.log || process.env.RIVULET_TEST_LOG) process.stderr.write(l);
    },
  });
  const server = new RivuletServer({ config, log });
  await server.start();
  const port = server.port;
  return {
    server,
    port,
    logs,
    url: (p) => `rtsp://127.0.0.1:${port}/${p.replace(/^\//, '')}`,
    close: () => server.stop(),
  };
}

/** A scratch folder removed by the returned cleanup. */
export function tempDir(prefix = 'rivulet-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
