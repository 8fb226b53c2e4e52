/** The Range header (RFC 2326 §12.29, §3.6 NPT, §3.5 SMPTE, §3.7 clock). Only normal play
 * time is interpreted; SMPTE and absolute clock ranges are recognised and reported as such so
 * the server can answer 501/457 instead of 400. */

import { HeaderError } from '../../net/index.js';

export interface NptRange {
  unit: 'npt';
  /** Seconds, `'now'` (live), or absent for `npt=-10` (up to 10 s). */
  start?: number | 'now';
  /** Seconds; absent for an open range (`npt=5-`). */
  end?: number;
  /** The `;time=` parameter (when to start, RFC 2326 §12.29) as written. */
  time?: string;
}

export interface UnsupportedRange {
  unit: 'smpte' | 'smpte-30-drop' | 'smpte-25' | 'clock';
  /** The whole header value as received. */
  value: string;
}

export type ParsedRange = NptRange | UnsupportedRange;

const H = 'Range';
const SEC_RE = /^(\d+)(?:\.(\d*))?$/;
const HMS_RE = /^(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d*))?$/;

function nptTime(text: string): number {
  let m = SEC_RE.exec(text);
  let seconds: number;
  if (m !== null) {
    seconds = Number(`${m[1]}.${m[2] ?? ''}0`);
  } else {
    m = HMS_RE.exec(text);
    if (m === null) throw new HeaderError(H, `invalid npt time ${JSON.stringify(text)}`);
    const mm = Number(m[2]);
    const ss = Number(m[3]);
    if (mm > 59 || ss > 59) throw new HeaderError(H, `invalid npt time ${JSON.stringify(text)}`);
    seconds = Number(m[1]) * 3600 + mm * 60 + Number(`${ss}.${m[4] ?? ''}0`);
  }
  if (!Number.isFinite(seconds)) throw new HeaderError(H, 'npt time out of range');
  return seconds;
}

/** Parses a Range header value. Whitespace anywhere inside is ignored (`npt = 0.000-` is seen in
 * the wild). Throws HeaderError (status 400) on bad syntax and HeaderError with status 457 when
 * the end is before the start. */
export function parseRange(value: string): ParsedRange {
  const compact = value.replace(/\s+/g, '');
  const semi = compact.indexOf(';');
  const spec = semi === -1 ? compact : compact.slice(0, semi);
  const eq = spec.indexOf('=');
  if (eq === -1) throw new HeaderError(H, 'missing unit');
  const unit = spec.slice(0, eq).toLowerCase();
  if (unit === 'smpte' || unit === 'smpte-30-drop' || unit === 'smpte-25' || unit === 'clock')
    return { unit, value };
  if (unit !== 'npt') throw new HeaderError(H, `unknown unit ${JSON.stringify(unit)}`);

  const range = spec.slice(eq + 1);
  const dash = range.indexOf('-');
  if (dash === -1) throw new HeaderError(H, 'missing "-"');
  const a = range.slice(0, dash);
  const b = range.slice(dash + 1);
  if (a === '' && b === '') throw new HeaderError(H, 'empty range');
  const out: NptRange = { unit: 'npt' };
  if (a === 'now') out.start = 'now';
  else if (a !== '') out.start = nptTime(a);
  if (b !== '') out.end = nptTime(b);
  if (typeof out.start === 'number' && out.end !== undefined && out.end < out.start)
    throw new HeaderError(H, 'end before start', 457);

  if (semi !== -1) {
    for (const param of compact.slice(semi + 1).split(';')) {
      const e = param.indexOf('=');
      if (e > 0 && e < param.length - 1 && param.slice(0, e).toLowerCase() === 'time')
        out.time = param.slice(e + 1);
      // Other parameters are extensions this server does not act on.
    }
  }
  return out;
}

function fmtTime(t: number): string {
  if (!Number.isFinite(t) || t < 0) throw new RangeError(`${H}: invalid time ${t}`);
  return t.toFixed(3);
}

/** `npt=<start>-[<end>]` with 3 decimals: `npt=5.000-10.000`, `npt=0.000-`, `npt=now-`. */
export function formatNptRange(start: number | 'now', end?: number): string {
  return `npt=${start === 'now' ? 'now' : fmtTime(start)}-${end === undefined ? '' : fmtTime(end)}`;
}

/** Writes a parsed NPT range back (start may be absent: `npt=-10.000`), with its time param. */
export function formatRange(range: NptRange): string {
  const start = range.start === undefined ? '' : range.start === 'now' ? 'now' : fmtTime(range.start);
  const end = range.end === undefined ? '' : fmtTime(range.end);
  return `npt=${start}-${end}${range.time === undefined ? '' : `;time=${range.time}`}`;
}
