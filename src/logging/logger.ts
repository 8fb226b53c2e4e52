/** Application log: pino underneath, printed as plain lines for people or as JSON for collectors.
 * Records can also be teed, already parsed, to sinks attached later (`attachLogTee`: the DSS
 * Error.log), whatever the output format and without touching what standard output gets. */
import { pino, symbols, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Minimum level (default 'info'). */
  level?: string;
  /** 'text' (default) or 'json'. */
  format?: 'text' | 'json';
  /** Where lines go (default: standard output). */
  write?: (line: string) => void;
  /** Lowest level a tee (attachLogTee) may want, when below `level`: the logger then runs at it
   * and `write` still gets only `level` and above (default: `level`). Given (even equal to
   * `level`), it can be changed later with setTeeLevel; children follow their root's level. */
  teeLevel?: string;
}

/** One application log record as a tee sees it. */
export interface LogEntry {
  /** pino's number: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
  level: number;
  /** Unix ms. */
  time: number;
  msg: string;
  /** The fields given with the message (not the child logger's bindings). */
  fields: Record<string, unknown>;
  /** The `component` binding of the child logger that wrote it, if any. */
  component?: string;
}

export type LogSink = (entry: LogEntry) => void;

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

function fmtValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v && typeof v === 'object' && 'message' in v) return JSON.stringify(v.message);
  return JSON.stringify(v);
}

/** `key=value key=value` of a record's fields, as the text format prints them (`skip`: keys left
 * out). */
export function formatFields(fields: Record<string, unknown>, skip: ReadonlySet<string> = SKIP): string {
  return Object.entries(fields)
    .filter(([k]) => !skip.has(k) && k !== 'component')
    .map(([k, v]) => `${k}=${fmtValue(v)}`)
    .join(' ');
}

/** Formats one pino JSON record as `time LEVEL [component] message key=value ...`. */
export function formatTextLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = new Date(typeof rec.time === 'number' ? rec.time : Date.now()).toISOString();
  const level = LEVELS[rec.level as number] ?? String(rec.level);
  const comp = typeof rec.component === 'string' ? ` [${rec.component}]` : '';
  const extras = formatFields(rec);
  return `${time} ${level.padEnd(5)}${comp} ${typeof rec.msg === 'string' ? rec.msg : JSON.stringify(rec.msg ?? '')}${extras ? ' ' + extras : ''}\n`;
}

/** pino's destination, asking for each record's metadata (pino sets the `last*` fields before
 * each write) so that the output is filtered by level and tee sinks get the record unparsed. */
class TeeDestination implements DestinationStream {
  readonly [symbols.needsMetadataGsym] = true as const;
  lastLevel = 0;
  lastMsg = '';
  lastObj: object = {};
  lastTime = '';
  lastLogger: Logger | undefined;
  readonly sinks = new Set<LogSink>();
  readonly #out: (line: string) => void;
  /** The lowest level written out (below it, records are for the tee only). */
  outLevel: number;
  /** Set by createLogger when the tee's level may change (setTeeLevel). */
  retee: ((teeLevel: string | undefined) => void) | undefined;

  constructor(out: (line: string) => void, outLevel: number) {
    this.#out = out;
    this.outLevel = outLevel;
  }

  write(line: string): void {
    if (this.lastLevel >= this.outLevel) this.#out(line);
    if (this.sinks.size === 0) return;
    const component: unknown = this.lastLogger?.bindings().component;
    const entry: LogEntry = {
      level: this.lastLevel,
      time: Date.now(),
      msg: typeof this.lastMsg === 'string' ? this.lastMsg : '',
      fields: (this.lastObj ?? {}) as Record<string, unknown>,
      component: typeof component === 'string' ? component : undefined,
    };
    // A sink's failure must not reach the code that logged.
    for (const sink of this.sinks) {
      try {
        sink(entry);
      } catch {
        /* dropped: the tee is best effort */
      }
    }
  }
}

/** pino's number for a level name (silent: above every level). */
function levelValue(name: string): number {
  return name === 'silent' ? Infinity : (pino.levels.values[name] ?? 30);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((l: string) => void process.stdout.write(l));
  const level = opts.level ?? 'info';
  let tee = opts.teeLevel;
  let out = level;
  const lower = (l: string) => (tee !== undefined && levelValue(tee) < levelValue(l) ? tee : l);
  // Without a teeLevel nothing is filtered here: pino's level alone decides, as it always did.
  const dest = new TeeDestination(
    opts.format === 'json' ? (l) => write(l) : (l) => write(formatTextLine(l)),
    tee === undefined ? -Infinity : levelValue(level),
  );
  const root = pino({ level: lower(level), base: undefined }, dest);
  if (tee !== undefined) {
    // `log.level = x` (a config reload) sets what the output shows; the logger keeps running
    // low enough for the tee.
    let adjusting = false;
    const relevel = () => {
      adjusting = true;
      root.level = lower(out);
      adjusting = false;
    };
    root.on('level-change', (lvl, _val, _prev, _prevVal, logger) => {
      if (adjusting || logger !== root) return;
      out = lvl;
      dest.outLevel = levelValue(lvl);
      relevel();
    });
    dest.retee = (t) => {
      tee = t;
      relevel();
    };
  }
  return root;
}

/** Changes the lowest level the tee wants (logs.errorVerbosity or logs.error changed at run
 * time; undefined: none below the output's). Only for a logger made with a `teeLevel`. */
export function setTeeLevel(log: Logger, teeLevel: string | undefined): void {
  const dest = (log as unknown as Record<symbol, unknown>)[symbols.streamSym];
  if (dest instanceof TeeDestination) dest.retee?.(teeLevel);
}

/** Hands every record `log` (or any logger of its family: parent, children) writes from now on
 * to `sink` as well; returns the detach function. A logger not made by createLogger has no tee:
 * nothing is attached then. */
export function attachLogTee(log: Logger, sink: LogSink): () => void {
  const dest = (log as unknown as Record<symbol, unknown>)[symbols.streamSym];
  if (!(dest instanceof TeeDestination)) return () => {};
  dest.sinks.add(sink);
  return () => void dest.sinks.delete(sink);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
