/** The RTP-Info header (RFC 2326 §12.33), sent in the PLAY response: for each stream, the URL
 * and the sequence number and RTP timestamp of the first packet after the seek, e.g.
 * `url=rtsp://h/a.mp4/trackID=1;seq=45102;rtptime=2890844526,url=rtsp://h/a.mp4/trackID=2;seq=1`. */

import { HeaderError, splitOutsideQuotes, unquote } from '../../net/index.js';

export interface RtpInfoEntry {
  url: string;
  /** Sequence number of the first packet, 0..65535. */
  seq?: number;
  /** RTP timestamp of the first packet, 0..2^32-1. */
  rtptime?: number;
}

const H = 'RTP-Info';
/** The RFC notes that URLs may contain ',' and ';'. Entries therefore only start at a comma
 * followed by `url=`, and an entry is only cut at a ';' followed by a parameter this header
 * defines; anything else belongs to the URL. */
const ENTRY_START_RE = /^\s*url\s*=/i;
// eslint-disable-next-line no-control-regex
const BAD_URL_RE = /[\s"\x00-\x1f\x7f]/;
const PARAM_RE = /^\s*(url|seq|rtptime|ssrc)\s*=(.*)$/is;

function num(name: string, value: string, max: number): number {
  const v = value.trim();
  if (!/^\d{1,10}$/.test(v)) throw new HeaderError(H, `invalid ${name}`);
  const n = Number(v);
  if (n > max) throw new HeaderError(H, `${name} out of range`);
  return n;
}

function parseEntry(text: string): RtpInfoEntry {
  const pieces = splitOutsideQuotes(text, ';');
  const params: [string, string][] = [];
  for (const piece of pieces) {
    const m = PARAM_RE.exec(piece);
    if (m !== null) params.push([m[1].toLowerCase(), m[2]]);
    else if (params.length > 0) params[params.length - 1][1] += `;${piece}`;
    else if (piece.trim() !== '') throw new HeaderError(H, 'entry does not start with a parameter');
  }
  let url: string | undefined;
  const entry: Partial<RtpInfoEntry> = {};
  for (const [name, value] of params) {
    if (name === 'url') url = unquote(value.trim());
    else if (name === 'seq') entry.seq = num('seq', value, 0xffff);
    else if (name === 'rtptime') entry.rtptime = num('rtptime', value, 0xffffffff);
    // ssrc (RFC 7826) is recognised only so that it does not end up inside the URL.
  }
  if (url === undefined || url === '') throw new HeaderError(H, 'entry without url');
  const out: RtpInfoEntry = { url };
  if (entry.seq !== undefined) out.seq = entry.seq;
  if (entry.rtptime !== undefined) out.rtptime = entry.rtptime;
  return out;
}

/** Parses an RTP-Info value into its entries, in order. Throws HeaderError on an entry without
 * url or a non-numeric / out-of-range seq or rtptime. */
export function parseRtpInfo(value: string): RtpInfoEntry[] {
  const entries: string[] = [];
  for (const piece of splitOutsideQuotes(value, ',')) {
    if (entries.length > 0 && !ENTRY_START_RE.test(piece)) entries[entries.length - 1] += `,${piece}`;
    else entries.push(piece);
  }
  const out: RtpInfoEntry[] = [];
  for (const e of entries) if (e.trim() !== '') out.push(parseEntry(e));
  if (out.length === 0) throw new HeaderError(H, 'empty');
  return out;
}

/** `url=<url>[;seq=<n>][;rtptime=<n>]`, entries joined by ','. Throws RangeError on a URL with
 * whitespace, quotes or control characters, or out-of-range numbers. A URL containing `;seq=`,
 * `;rtptime=`, `;url=`, `;ssrc=` or `,url=` cannot be parsed back unambiguously. */
export function formatRtpInfo(entries: readonly RtpInfoEntry[]): string {
  return entries
    .map((e) => {
      if (e.url === '' || BAD_URL_RE.test(e.url)) throw new RangeError(`${H}: invalid url`);
      let s = `url=${e.url}`;
      if (e.seq !== undefined) {
        if (!Number.isInteger(e.seq) || e.seq < 0 || e.seq > 0xffff)
          throw new RangeError(`${H}: invalid seq`);
        s += `;seq=${e.seq}`;
      }
      if (e.rtptime !== undefined) {
        if (!Number.isInteger(e.rtptime) || e.rtptime < 0 || e.rtptime > 0xffffffff)
          throw new RangeError(`${H}: invalid rtptime`);
        s += `;rtptime=${e.rtptime}`;
      }
      return s;
    })
    .join(',');
}

/** A request URL made fit for `formatRtpInfo`: what RFC 2326 §3.2 calls unsafe in a URL and the
 * formatter refuses (whitespace, `"`, control characters) is percent-encoded as UTF-8; anything
 * else, valid URLs included, is returned unchanged. A client's request URI may carry a raw `"`. */
export function rtpInfoUrl(url: string): string {
  if (!BAD_URL_RE.test(url)) return url;
  return url.replace(new RegExp(BAD_URL_RE.source, 'g'), (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}
