/** The Transport header (RFC 2326 §12.39): a comma-separated list of transport specs in the
 * client's order of preference, e.g. `RTP/AVP;unicast;client_port=5000-5001, RTP/AVP/TCP;
 * unicast;interleaved=0-1`. The server picks one and echoes it, completed, in its reply. */

import { HeaderError, splitOutsideQuotes, unquote } from '../../net/index.js';

export type TransportMode = 'play' | 'record' | 'receive';

/** A parameter this module does not interpret, kept so it can be inspected or echoed. */
export interface TransportParam {
  /** Name as written. */
  name: string;
  /** Value as written (quotes included), absent for a bare flag. */
  value?: string;
}

export interface TransportSpec {
  /** Transport protocol, upper-cased: `RTP` in practice. */
  protocol: string;
  /** Profile, upper-cased: `AVP`, `SAVP`, `AVPF`, `SAVPF`... */
  profile: string;
  /** Lower transport, upper-cased: `UDP` (also when omitted, as the RFC says) or `TCP`. */
  lowerTransport: string;
  delivery?: 'unicast' | 'multicast';
  /** Address to send to; `''` for a bare `destination` flag (allowed by the RFC grammar). */
  destination?: string;
  source?: string;
  /** Interleaved channels (RTP, RTCP); a single `interleaved=n` means n, n+1. */
  interleaved?: [number, number];
  append?: boolean;
  ttl?: number;
  layers?: number;
  /** Multicast RTP/RTCP ports. */
  port?: [number, number];
  /** Client RTP/RTCP ports; a single port p means p, p+1. */
  clientPort?: [number, number];
  /** Server RTP/RTCP ports; a single port p means p, p+1. */
  serverPort?: [number, number];
  /** SSRC (written as hex on the wire), 0..2^32-1. */
  ssrc?: number;
  mode?: TransportMode;
  /** Unknown parameters in order; absent when there are none. */
  extra?: TransportParam[];
}

const H = 'Transport';
const PROTO_RE = /^([A-Za-z0-9_.+-]+)\/([A-Za-z0-9_.+-]+)(?:\/([A-Za-z0-9_.+-]+))?$/;
const PAIR_RE = /^(\d{1,10})(?:\s*-\s*(\d{1,10}))?$/;
const MODES: readonly string[] = ['play', 'record', 'receive'];

function pair(name: string, value: string | undefined, max: number): [number, number] {
  const m = value === undefined ? null : PAIR_RE.exec(value);
  if (m === null) throw new HeaderError(H, `invalid ${name}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) throw new HeaderError(H, `${name} out of range`);
  return [a, b];
}

function int(name: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined || !/^\d{1,10}$/.test(value)) throw new HeaderError(H, `invalid ${name}`);
  const n = Number(value);
  if (n < min || n > max) throw new HeaderError(H, `${name} out of range`);
  return n;
}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new HeaderError(H, `${name} needs a value`);
  return unquote(value);
}

function parseSpec(text: string): TransportSpec {
  const parts = splitOutsideQuotes(text, ';');
  const m = PROTO_RE.exec(parts[0].trim());
  if (m === null) throw new HeaderError(H, `invalid transport protocol ${JSON.stringify(parts[0].trim())}`);
  const spec: TransportSpec = {
    protocol: m[1].toUpperCase(),
    profile: m[2].toUpperCase(),
    lowerTransport: (m[3] ?? 'UDP').toUpperCase(),
  };
  for (let i = 1; i < parts.length; i++) {
    const raw = parts[i].trim();
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    const rawName = (eq === -1 ? raw : raw.slice(0, eq)).trim();
    const value = eq === -1 ? undefined : raw.slice(eq + 1).trim();
    switch (rawName.toLowerCase()) {
      case 'unicast':
      case 'multicast':
        spec.delivery = rawName.toLowerCase() as 'unicast' | 'multicast';
        break;
      case 'destination':
        spec.destination = value === undefined ? '' : unquote(value);
        break;
      case 'source':
        spec.source = required('source', value);
        break;
      case 'interleaved':
        spec.interleaved = pair('interleaved', value, 255);
        break;
      case 'append':
        spec.append = true;
        break;
      case 'ttl':
        spec.ttl = int('ttl', value, 0, 255);
        break;
      case 'layers':
        spec.layers = int('layers', value, 1, 0xffffffff);
        break;
      case 'port':
        spec.port = pair('port', value, 65535);
        break;
      case 'client_port':
        spec.clientPort = pair('client_port', value, 65535);
        break;
      case 'server_port':
        spec.serverPort = pair('server_port', value, 65535);
        break;
      case 'ssrc': {
        const v = value === undefined ? '' : unquote(value);
        if (!/^[0-9A-Fa-f]{1,8}$/.test(v)) throw new HeaderError(H, 'invalid ssrc');
        spec.ssrc = parseInt(v, 16);
        break;
      }
      case 'mode': {
        const v = required('mode', value).trim().toLowerCase();
        if (!MODES.includes(v)) throw new HeaderError(H, `unsupported mode ${JSON.stringify(v)}`);
        spec.mode = v as TransportMode;
        break;
      }
      default: {
        if (rawName === '') throw new HeaderError(H, 'empty parameter name');
        const p: TransportParam = { name: rawName };
        if (value !== undefined) p.value = value;
        (spec.extra ??= []).push(p);
      }
    }
  }
  return spec;
}

/** Parses a Transport header value into its specs, in the order given. Throws HeaderError on
 * malformed syntax or out-of-range numbers (ports > 65535, channels > 255, non-hex SSRC). */
export function parseTransport(value: string): TransportSpec[] {
  const specs: TransportSpec[] = [];
  for (const part of splitOutsideQuotes(value, ',')) {
    if (part.trim() === '') continue;
    specs.push(parseSpec(part));
  }
  if (specs.length === 0) throw new HeaderError(H, 'empty');
  return specs;
}

function checkPair(name: string, p: [number, number], max: number): string {
  for (const n of p)
    if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${H}: ${name} out of range`);
  return `${p[0]}-${p[1]}`;
}

function checkInt(name: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${H}: ${name} out of range`);
  return n;
}

export interface FormatTransportOptions {
  /** Write the mode as a bare lower-case token (`mode=record`) instead of the RFC's quoted
   * upper-case form (`mode="RECORD"`). Default false. */
  bareMode?: boolean;
}

/** Writes one spec (or a list, comma-separated) in a canonical order: lower transport only when
 * not UDP, port pairs always as `a-b`, SSRC as 8 upper-case hex digits, mode as `mode="PLAY"`
 * (the RFC's own form; `mode=play` with `bareMode`), unknown parameters last as they were
 * parsed. Throws RangeError on out-of-range numbers. */
export function formatTransport(spec: TransportSpec | readonly TransportSpec[], options: FormatTransportOptions = {}): string {
  if (Array.isArray(spec)) return (spec as readonly TransportSpec[]).map((s) => formatTransport(s, options)).join(',');
  const s = spec as TransportSpec;
  let out = `${s.protocol}/${s.profile}`;
  if (s.lowerTransport !== 'UDP') out += `/${s.lowerTransport}`;
  if (s.delivery !== undefined) out += `;${s.delivery}`;
  if (s.destination !== undefined)
    out += s.destination === '' ? ';destination' : `;destination=${s.destination}`;
  if (s.source !== undefined) out += `;source=${s.source}`;
  if (s.interleaved !== undefined) out += `;interleaved=${checkPair('interleaved', s.interleaved, 255)}`;
  if (s.append === true) out += ';append';
  if (s.ttl !== undefined) out += `;ttl=${checkInt('ttl', s.ttl, 0, 255)}`;
  if (s.layers !== undefined) out += `;layers=${checkInt('layers', s.layers, 1, 0xffffffff)}`;
  if (s.port !== undefined) out += `;port=${checkPair('port', s.port, 65535)}`;
  if (s.clientPort !== undefined) out += `;client_port=${checkPair('client_port', s.clientPort, 65535)}`;
  if (s.serverPort !== undefined) out += `;server_port=${checkPair('server_port', s.serverPort, 65535)}`;
  if (s.ssrc !== undefined)
    out += `;ssrc=${checkInt('ssrc', s.ssrc, 0, 0xffffffff).toString(16).toUpperCase().padStart(8, '0')}`;
  if (s.mode !== undefined) out += options.bareMode === true ? `;mode=${s.mode}` : `;mode="${s.mode.toUpperCase()}"`;
  for (const p of s.extra ?? []) out += p.value === undefined ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}
