/** The Scale and Speed headers (RFC 2326 §12.34, §12.35; RFC 7826 §18.46, §18.50). Scale is the
 * viewing rate (2 = fast forward at twice normal, -2 = rewind), Speed the delivery rate of the
 * same timeline (2 = the bits arrive twice as fast). Both are decimal numbers; Speed is positive.
 * What the server does with them (which values it supports) is the caller's; the answer carries
 * the value actually used, written by `formatRate`. */

import { HeaderError } from '../../net/index.js';

/** `[-]1*DIGIT[.*DIGIT]`, as RFC 2326 writes it; a leading `+` and `.5` are seen in the wild. */
const RATE_RE = /^[-+]?(?:\d{1,9}(?:\.\d{0,9})?|\.\d{1,9})$/;

function parseRate(header: string, value: string): number {
  const v = value.trim();
  if (!RATE_RE.test(v)) throw new HeaderError(header, `invalid value ${JSON.stringify(v.slice(0, 32))}`);
  return Number(v);
}

/** Parses a Scale value: any non-zero decimal, negative for reverse. Throws HeaderError (400) on
 * bad syntax and for 0 (no viewing rate). */
export function parseScale(value: string): number {
  const n = parseRate('Scale', value);
  if (n === 0) throw new HeaderError('Scale', 'scale 0 is not a viewing rate');
  return n;
}

/** Parses a Speed value: a positive decimal. Throws HeaderError (400) on bad syntax, 0 or a
 * negative value (RFC 7826: "Speed ... MUST be greater than 0"). */
export function parseSpeed(value: string): number {
  const n = parseRate('Speed', value);
  if (!(n > 0)) throw new HeaderError('Speed', 'speed must be greater than 0');
  return n;
}

/** A Scale or Speed value for an answer: as short as it can be written (`2`, `-4`, `1.5`), at
 * most three decimals. Throws RangeError for a value that is not a finite number. */
export function formatRate(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`invalid rate ${n}`);
  const r = Math.round(n * 1000) / 1000;
  return String(Object.is(r, -0) ? 0 : r);
}

/** QuickTime's `x-Prebuffer` request header (DSS's Instant-On): `maxtime=<s>` is how far before
 * the requested start the client will take the stream from (back to a sync sample). Other
 * parameters are ignored; a missing or bad `maxtime` is undefined (the header is advisory). */
export function parsePrebufferMaxTime(value: string): number | undefined {
  for (const param of value.split(';')) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'maxtime') continue;
    const v = param.slice(eq + 1).trim();
    if (!/^\d{1,9}(?:\.\d{0,9})?$/.test(v)) return undefined;
    return Number(v);
  }
  return undefined;
}

/** The answer's `x-Prebuffer: time=<s>`: how far before the requested start the stream begins. */
export function formatPrebuffer(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`invalid prebuffer time ${seconds}`);
  return `time=${seconds.toFixed(3)}`;
}
