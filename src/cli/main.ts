#!/usr/bin/env node
/** `rivulet` command line. `rivulet serve [--config FILE] [--rtsp-port N] [--bind ADDR]
 * [--media-dir DIR] [--set group.key=value]...` — these flags are a contract scripts rely on. */
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger, pinoLevelFor } from '../logging/index.js';
import { RivuletServer, StartupError } from '../server/index.js';
import { rivuletVersion } from '../server/version.js';
import { importDss } from './import-dss.js';
import { inspect } from './inspect.js';
import { passwd } from './passwd.js';
import { playlist } from './playlist.js';

const USAGE = `Usage: rivulet <command> [options]

Commands:
  serve    start the streaming server
  inspect  tell what media files hold and whether they can be streamed
           (rivulet inspect [--json] PATH...; see rivulet inspect --help)
  passwd   add users, change passwords and manage groups for protected folders
           (qtpasswd-compatible; see rivulet passwd --help)
  import-dss  write a Rivulet config equivalent to a DSS streamingserver.xml, listing what
           it mapped and what it could not (rivulet import-dss STREAMINGSERVER_XML
           [--out FILE] [--force]; see rivulet import-dss --help)
  playlist check a DSS playlist before broadcasting it: what plays, what would be skipped
           and why (rivulet playlist check FILE|NAME); start, stop and show the playlists
           of a running server (rivulet playlist start|stop|status NAME; see
           rivulet playlist --help)

Options for serve:
  --config FILE        YAML config file (see rivulet.example.yaml)
  --rtsp-port N        RTSP port (rtsp.ports); 0 picks a free port
  --bind ADDR          address to listen on (rtsp.bind); repeat or comma-separate for several
  --media-dir DIR      folder of media to serve (media.dir)
  --set KEY=VALUE      set any config key, e.g. --set rtp.maxPayloadSize=1200 (repeatable;
                       lists comma-separated)
  -h, --help           show this help
  -v, --version        print the version
`;

/** A host name a user on this machine or the LAN can paste into a player. */
function displayHost(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind.includes(':') ? `[${bind}]` : bind;
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'rtsp-port': { type: 'string' },
      bind: { type: 'string', multiple: true },
      'media-dir': { type: 'string' },
      set: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const flags: Record<string, Record<string, unknown>> = {};
  if (values['rtsp-port'] !== undefined) {
    const n = Number(values['rtsp-port']);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--rtsp-port: '${values['rtsp-port']}' is not a port number`);
    flags.rtsp = { ...flags.rtsp, ports: [n] };
  }
  if (values.bind) flags.rtsp = { ...flags.rtsp, bind: values.bind.flatMap((b) => b.split(',')).map((b) => b.trim()) };
  if (values['media-dir']) flags.media = { dir: values['media-dir'] };
  // Reloads read the config as here, so --set and the flags keep winning over the file.
  const reloadConfig = (text?: string) => loadConfig({ configFile: values.config, sets: values.set, flags, text });
  const config = reloadConfig();
  // Error.log may want lower levels than standard output shows (logs.errorVerbosity).
  // Given even when logs.error is off, so a reload that turns it on can lower it (setTeeLevel).
  const teeLevel = config.logs.error ? pinoLevelFor(config.logs.errorVerbosity) : config.log.level;
  const log = createLogger({ level: config.log.level, format: config.log.format, teeLevel });
  // A fault in one session must not take every viewer down with it: log it loudly instead.
  process.on('unhandledRejection', (e) => log.error({ err: (e as Error)?.stack ?? String(e) }, 'unhandled rejection'));
  const server = new RivuletServer({ config, log, configFile: values.config, reloadConfig });
  let addrs;
  try {
    addrs = await server.start();
  } catch (e) {
    // The server logged why (to standard output and Error.log).
    if (e instanceof StartupError) return 1;
    throw e;
  }
  const port = addrs[0].port;
  // The radio ports have a line of their own.
  const rtspAddrs = addrs.filter((a) => a.kind !== 'radio');
  log.info(
    { port, addresses: rtspAddrs.map((a) => (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`)).join(', '), media: config.media.dir },
    `Rivulet ${rivuletVersion()} listening for RTSP on port ${port}`,
  );
  log.info(`Open rtsp://${displayHost(config.rtsp.bind[0])}:${port}/sample.mp4 in a player (any file in the media folder works the same way)`);
  if (server.httpPorts.length) log.info(`RTSP over HTTP tunnels also on port ${server.httpPorts.join(', ')} (every RTSP port takes them too)`);
  if (server.tlsPorts.length) log.info(`RTSPS (RTSP over TLS) on port ${server.tlsPorts.join(', ')}`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    void server.stop({ drainMs: 500 }).then(() => {
      log.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // logrotate moved the log files: write new ones.
  process.on('SIGUSR1', () => server.reopenLogs());
  // SIGHUP re-reads the config the same way (as does a change of the config file): what can
  // apply while running does at once, the log names what waits for a restart.
  process.on('SIGHUP', () => {
    if (!stopping) void server.rereadConfig('SIGHUP');
  });
  return -1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'inspect':
      // `rivulet inspect DIR | head` closes the pipe early: that is not an error.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      });
      return inspect(rest);
    case 'passwd':
      return passwd(rest);
    case 'playlist':
      return playlist(rest);
    case 'import-dss':
      return importDss(rest);
    case '-v':
    case '--version':
      process.stdout.write(`${rivuletVersion()}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      process.stderr.write(`rivulet: unknown command '${cmd}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ConfigError) process.stderr.write(`rivulet: ${e.message}\n`);
    else if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`rivulet: ${e.message}\n\n${USAGE}`);
    } else process.stderr.write(`rivulet: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 2;
  },
);
