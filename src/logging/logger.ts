/** Application log: pino underneath, printed as plain lines for people or as JSON for collectors. */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Minimum level (default 'info'). */
  level?: string;
  /** 'text' (default) or 'json'. */
  format?: 'text' | 'json';
  /** Where lines go (default: standard output). */
  write?: (line: string) => void;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

function fmtValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v && typeof v === 'object' && 'message' in v) return JSON.stringify((v).message);
  return JSON.stringify(v);
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
  const extras = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k) && k !== 'component')
    .map(([k, v]) => `${k}=${fmtValue(v)}`)
    .join(' ');
  return `${time} ${level.padEnd(5)}${comp} ${typeof rec.msg === 'string' ? rec.msg : JSON.stringify(rec.msg ?? '')}${extras ? ' ' + extras : ''}\n`;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((l: string) => void process.stdout.write(l));
  const dest: DestinationStream = {
    write: opts.format === 'json' ? (l: string) => write(l) : (l: string) => write(formatTextLine(l)),
  };
  return pino({ level: opts.level ?? 'info', base: undefined }, dest);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
