/** `rivulet playlist start|stop|status`: asks the running server through its control socket
 * (`control.socket` of the config it runs with: HTTP/1.1 with JSON, the `/api/v1/playlists`
 * routes) and prints its answer. Exit status 0 when it did what was asked, 1 when the server
 * refused (its reason printed) or none answers. */
import { request } from 'node:http';
import type { SourceInfo } from '../core/index.js';

/** A command's output streams. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Longest the server may take to answer: a start opens the playlist's first item. */
const ANSWER_TIMEOUT_MS = 60_000;
/** Largest answer read (a status of 1000 playlists is far below). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** Nothing listens on the socket: no server, or one with another config. */
export class NoServerError extends Error {
  override readonly name = 'NoServerError';
}

/** One request to the control socket; resolves with the status and the JSON body. */
export function askServer(socket: string, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { Accept: 'application/json' }, timeout: ANSWER_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`the server's answer is over ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(d);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          reject(new Error(`the server answered ${res.statusCode} with something other than JSON: ${text.slice(0, 200)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${socket} within ${ANSWER_TIMEOUT_MS / 1000} s`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTSOCK') {
        reject(new NoServerError(`no Rivulet server answers on ${socket} (is it running with this config?)`));
      } else reject(e);
    });
    req.end();
  });
}

/** Entries of a list shown on a status line; the rest is counted. */
const MAX_SHOWN = 10;

/** A value of a source's status on one line: a file or a name as it is, lists joined (the first
 * MAX_SHOWN), an item as its file with its other plain fields in parentheses. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (typeof v !== 'object') return JSON.stringify(v) ?? '-';
  if (Array.isArray(v)) {
    if (v.length === 0) return '(none)';
    const shown = v.slice(0, MAX_SHOWN).map(formatValue).join(', ');
    return v.length > MAX_SHOWN ? `${shown} … (${v.length - MAX_SHOWN} more)` : shown;
  }
  const o = v as Record<string, unknown>;
  const head = typeof o.file === 'string' ? o.file : undefined;
  const rest = Object.entries(o)
    .filter(([k, x]) => !(head !== undefined && k === 'file') && x !== undefined)
    .map(([k, x]) => `${k} ${typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)}`);
  if (head === undefined) return rest.join(', ');
  return rest.length ? `${head} (${rest.join(', ')})` : head;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** A playlist as a person reads it: its state on the first line, then where it is configured
 * and what it is doing, indented. */
export function formatSource(s: SourceInfo): string {
  let state: string = s.state;
  if (s.state === 'running') state += `, ${plural(s.readers, 'viewer')}, since ${s.since ?? '-'}`;
  else if (s.state === 'stopped') state += ' by the operator (rivulet playlist start starts it)';
  else if (s.state === 'waiting') state += ` for its ${s.waiting ?? 'start'}${s.nextStart ? `: starts at ${s.nextStart}` : ''}`;
  else state += s.onDemand ? ' (starts when a viewer asks)' : ' (nothing plays; a viewer asking starts it again)';
  const text = s.text.length > 200 ? `${s.text.slice(0, 200)}…` : s.text;
  const lines = [`${s.path}: ${state}`, `  ${s.origin}: ${text}`];
  for (const [k, v] of Object.entries(s.status ?? {})) lines.push(`  ${k}: ${formatValue(v)}`);
  return `${lines.join('\n')}\n`;
}

/** The API path of a playlist: each segment percent-encoded, `/` kept between them. */
const playlistPath = (name: string, action?: string) =>
  `/api/v1/playlists/${name.split('/').map(encodeURIComponent).join('/')}${action ? `/${action}` : ''}`;

/** Runs start, stop or status against the server on `socket`; returns the exit status. */
export async function controlCommand(verb: 'start' | 'stop' | 'status', name: string | undefined, socket: string, json: boolean, io: CliIo): Promise<number> {
  if (socket === '') {
    io.err('rivulet: control.socket is "" in this config: the server has no control surface to ask\n');
    return 1;
  }
  let answer: { status: number; body: unknown };
  try {
    answer = await askServer(socket, verb === 'status' ? 'GET' : 'POST', name === undefined ? '/api/v1/playlists' : playlistPath(name, verb === 'status' ? undefined : verb));
  } catch (e) {
    io.err(`rivulet: ${(e as Error).message}\n`);
    return 1;
  }
  const { status, body } = answer;
  if (json) io.out(`${JSON.stringify(body, null, 2)}\n`);
  if (status < 200 || status > 299) {
    const b = body as { error?: string; startsAt?: string };
    io.err(`rivulet: ${b.error ?? `the server answered ${status}`}${b.startsAt ? ` (starts at ${b.startsAt})` : ''}\n`);
    return 1;
  }
  if (json) return 0;
  if (name === undefined) {
    const list = (body as { playlists: SourceInfo[] }).playlists;
    io.out(list.length ? list.map(formatSource).join('') : 'no playlists are configured\n');
    return 0;
  }
  const info = body as SourceInfo;
  if (verb !== 'status') io.out(`${verb === 'start' ? 'started' : 'stopped'} ${info.path}\n`);
  io.out(formatSource(info));
  return 0;
}
