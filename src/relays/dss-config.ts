/** DSS `relayconfig.xml`, read as QTSSRelayModule 5/6 read it (QTSSRelayModule.cpp
 * FindSourceInfos, RTSPSourceInfo.cpp, RCFSourceInfo.cpp) and as the DSS web admin wrote it
 * (relayxmlparser.pl: values unescaped, empty prefs written out, keys in any order), turned into
 * `paths:` entries of the same shape as the YAML's, so the relay runtime treats both alike.
 *
 * The file: `<RELAY_CONFIG>` holding `<OBJECT TYPE="relay" [NAME="…">`, each with an optional
 * `<PREF NAME="enabled">false</PREF>` (only the exact text `false` disables, as in DSS), one
 * `<OBJECT CLASS="source" TYPE="…">` and any number of `<OBJECT CLASS="destination" TYPE="…">`,
 * whose settings are `<PREF NAME="…">value</PREF>` and `<LIST-PREF NAME="…"><VALUE>…</VALUE>…`.
 * Values are taken as written, as DSS's XMLParser took them: no entity is decoded (the admin
 * wrote a `&` in a password as it was), and a DOCTYPE is refused, so nothing can expand.
 *
 * How each relay becomes a path (`DssRelayPath`):
 * - `rtsp_source` (`source_addr`, `rtsp_port` 554, `url`, `name`, `password`) → `source:
 *   rtsp://name:password@source_addr:rtsp_port/url`. DSS made a pulled stream watchable on the
 *   relay itself by announcing it to itself (an `announced_destination` to a loopback address at
 *   one of this server's RTSP ports): that destination's `url` names the path, so viewers' URLs
 *   keep working; without one the path is the source's `url`. DSS pulled over UDP; the entry
 *   leaves `sourceTransport` at Rivulet's default (TCP), which any server DSS could pull from
 *   also serves.
 * - `announced_source` with a `url` → the path encoders publish to (its `url`), fed by them as
 *   any path is, with the relay's destinations added.
 * - destinations: `udp_destination` (`dest_addr`, `udp_base_port` or `udp_ports` two apart,
 *   `ttl`, `out_addr`) → `forward`; `announced_destination` (`dest_addr`, `rtsp_port` 554,
 *   `url` (default: the source's), `name`, `password`) → `push`.
 * - A path name is the URL path without its leading `/` and trailing `.sdp`, percent-decoded.
 *
 * What Rivulet cannot honour is reported once, as an issue with its line and element, and the
 * rest of the relay runs when it still makes sense: `udp_source` (Rivulet needs an SDP, which
 * DSS never asked for) and `relay_sdp` (not read), each with what to write in `paths:`; an
 * `announced_source` without `url` (a rule for every announced stream; Rivulet's destinations
 * are per path), `out_addr` of an announced destination, `in_addr` of an rtsp source, the
 * encoder address of an announced source. A relay without destinations is skipped as DSS skipped
 * it, a disabled one with a note.
 *
 * Bounded for hostile input: at most MAX_DSS_CONFIG_BYTES, MAX_RELAYS relays, elements nested
 * at most MAX_NESTING deep. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { isIP } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { dssXmlFault, dssXmlParser, pathsSchema, redactUrl, type PathSettings } from '../config/index.js';

/** Largest relayconfig.xml read, bytes (a relay the admin wrote is about 500 bytes). */
export const MAX_DSS_CONFIG_BYTES = 1024 * 1024;
/** Relays read from one file; the rest are skipped with one issue. */
export const MAX_RELAYS = 1000;
/** Deepest element nesting accepted (DSS files nest four deep). */
export const MAX_NESTING = 16;

/** The file cannot be used at all: too large, not well-formed, not a relay config. */
export class DssConfigError extends Error {
  override readonly name = 'DssConfigError';
}

/** Something in the file that Rivulet does not do as DSS did, said once. */
export interface DssRelayIssue {
  /** 1-based line of the element concerned. */
  line: number;
  /** The element, as `<OBJECT CLASS="destination" TYPE="udp_destination">`. */
  element: string;
  /** The relay it belongs to (its NAME, or `#N` in file order); '' for the file itself. */
  relay: string;
  /** `warn`: part of the file is not honoured; `info`: as DSS did, nothing lost. */
  level: 'warn' | 'info';
  reason: string;
}

/** One relay as a `paths:` entry. */
export interface DssRelayPath {
  /** The Rivulet path name (no leading `/`, no `.sdp`). */
  name: string;
  /** The entry as `paths.<name>` of the YAML, checked by the same schema. */
  entry: PathSettings;
  /** The relay it comes from (its NAME, or `#N`), and the line of its OBJECT. */
  relay: string;
  line: number;
}

export interface DssRelayConfig {
  paths: DssRelayPath[];
  issues: DssRelayIssue[];
}

export interface DssReadOptions {
  /** This server's RTSP ports (rtsp.ports): an announced destination at a loopback address and
   * one of these ports is this server itself. Default [554], DSS's port. */
  rtspPorts?: readonly number[];
}

/** One element of the file, as DSS's XMLTag held it. */
interface XmlElement {
  name: string;
  attrs: Readonly<Record<string, string>>;
  children: XmlElement[];
  /** The text directly inside it (DSS's value), untrimmed. */
  text: string;
  line: number;
}

/** A source or destination object's prefs: the first of each name, as DSS's lookups found. */
interface Prefs {
  values: Map<string, { value: string; el: XmlElement }>;
  lists: Map<string, { values: string[]; el: XmlElement }>;
}

/** Prefs whose whitespace is kept: DSS took every value as written, and a password may really
 * begin or end with a space. */
const VERBATIM = new Set(['name', 'password']);

/** Prefs each class reads; anything else is reported as ignored (DSS ignored it too). */
const KNOWN_PREFS: Readonly<Record<string, readonly string[]>> = {
  rtsp_source: ['source_addr', 'rtsp_port', 'url', 'name', 'password', 'in_addr'],
  announced_source: ['source_addr', 'url', 'name', 'password'],
  udp_source: ['in_addr', 'source_addr', 'udp_ports', 'ttl'],
  relay_sdp: ['sdp_path'],
  udp_destination: ['out_addr', 'dest_addr', 'udp_ports', 'udp_base_port', 'ttl', 'url', 'name', 'password'],
  announced_destination: ['out_addr', 'dest_addr', 'rtsp_port', 'name', 'password', 'url'],
};

/** The element as it reads in the file, for messages. */
function label(el: XmlElement): string {
  const attrs = Object.entries(el.attrs).map(([k, v]) => ` ${k}="${v.slice(0, 80)}"`);
  return `<${el.name}${attrs.join('')}>`;
}

/** Reads a relayconfig.xml file (at most MAX_DSS_CONFIG_BYTES; UTF-8, or Latin-1 when it is not
 * valid UTF-8, as files of the era often were). Throws DssConfigError when it cannot be used. */
export async function readDssRelayConfig(file: string, opts: DssReadOptions = {}): Promise<DssRelayConfig> {
  let fh;
  try {
    // Non-blocking, so opening a FIFO returns at once (and is refused below) instead of waiting
    // for a writer.
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DssConfigError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  let buf: Buffer;
  try {
    // A FIFO or a device would never end or has no size to check.
    const st = await fh.stat();
    if (!st.isFile()) throw new DssConfigError(`${file} is not a regular file`);
    if (st.size > MAX_DSS_CONFIG_BYTES) throw new DssConfigError(`${file} is larger than ${MAX_DSS_CONFIG_BYTES} bytes: not read`);
    buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    buf = buf.subarray(0, bytesRead);
  } catch (e) {
    if (e instanceof DssConfigError) throw e;
    throw new DssConfigError(`cannot read ${file}: ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    text = buf.toString('latin1');
  }
  try {
    return parseDssRelayConfig(text, opts);
  } catch (e) {
    if (e instanceof DssConfigError) throw new DssConfigError(`${file}: ${e.message}`);
    throw e;
  }
}

/** The relays of a relayconfig.xml text as paths, and what could not be honoured. Throws
 * DssConfigError when the text cannot be used at all. */
export function parseDssRelayConfig(text: string, opts: DssReadOptions = {}): DssRelayConfig {
  const root = parseXml(text);
  const reader = new RelayReader(opts.rtspPorts ?? [554]);
  let index = 0;
  for (const child of root.children) {
    if (child.name !== 'OBJECT' || child.attrs.TYPE !== 'relay') {
      reader.issue(child, '', 'info', 'not an <OBJECT TYPE="relay">: ignored, as DSS did');
      continue;
    }
    index++;
    if (index > MAX_RELAYS) {
      reader.issue(child, '', 'warn', `more than ${MAX_RELAYS} relays: this one and those after it are not read`);
      break;
    }
    reader.relay(child, child.attrs.NAME || `#${index}`);
  }
  return { paths: reader.paths, issues: reader.issues };
}

/** Adds the DSS relays' paths to the YAML's `paths:`: an entry of the same name in the YAML wins
 * (the relay is reported and left out), since the YAML is what the operator edits now. */
export function mergeDssPaths(paths: Readonly<Record<string, PathSettings>>, dss: readonly DssRelayPath[]): { paths: Record<string, PathSettings>; issues: DssRelayIssue[] } {
  const merged: Record<string, PathSettings> = { ...paths };
  const issues: DssRelayIssue[] = [];
  for (const p of dss) {
    if (Object.hasOwn(merged, p.name)) {
      issues.push({ line: p.line, element: '<OBJECT TYPE="relay">', relay: p.relay, level: 'warn', reason: `paths.${p.name} in the YAML config says what '${p.name}' is: this relay is not run` });
      continue;
    }
    merged[p.name] = p.entry;
  }
  return { paths: merged, issues };
}

/** Parses the text into elements, refusing what DSS's parser refused and what could be hostile. */
function parseXml(text: string): XmlElement {
  if (Buffer.byteLength(text) > MAX_DSS_CONFIG_BYTES) throw new DssConfigError(`larger than ${MAX_DSS_CONFIG_BYTES} bytes: not read`);
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (!body.includes('<')) {
    throw new DssConfigError(
      /^\s*relay_(source|destination)\b/m.test(body)
        ? 'is in the old streamingrelay.conf format (relay_source/relay_destination lines), which DSS 6 no longer read either: write it as relayconfig.xml or as paths: entries'
        : 'is not XML: expected <RELAY_CONFIG>',
    );
  }
  const doctype = /<!(DOCTYPE|ENTITY)/i.exec(body);
  if (doctype) {
    throw new DssConfigError(`line ${lineAt(body, doctype.index)}: has a <!${doctype[1]}>; a relay config needs none and Rivulet reads no entity declarations: remove it`);
  }
  const fault = dssXmlFault(body);
  if (fault) throw new DssConfigError(`line ${fault.line}: not well-formed XML: ${fault.msg}`);
  const parser = dssXmlParser({ maxNestedTags: MAX_NESTING, captureMetaData: true });
  let nodes: unknown;
  try {
    nodes = parser.parse(body);
  } catch (e) {
    throw new DssConfigError(`not readable as XML: ${(e as Error).message}`);
  }
  const lines = lineStarts(body);
  const top = toElements(nodes, lines);
  const root = top[0];
  if (!root) throw new DssConfigError('has no elements: expected <RELAY_CONFIG>');
  if (root.name !== 'RELAY_CONFIG') throw new DssConfigError(`line ${root.line}: the root element is <${root.name}>, not <RELAY_CONFIG>`);
  return root;
}

/** Offsets at which each line starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line holding `offset`. */
function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function lineAt(text: string, offset: number): number {
  return lineOf(lineStarts(text), offset);
}

// Typed `Symbol` (the wrapper) by the library; it is a primitive symbol at run time.
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

/** fast-xml-parser's ordered output (`[{ TAG: [children], ':@': attrs }, { '#text': … }]`) as
 * elements with their lines. */
function toElements(nodes: unknown, lines: readonly number[]): XmlElement[] {
  if (!Array.isArray(nodes)) return [];
  const out: XmlElement[] = [];
  for (const node of nodes as unknown[]) {
    if (typeof node !== 'object' || node === null) continue;
    const record = node as Record<string, unknown> & Record<symbol, unknown>;
    const name = Object.keys(record).find((k) => k !== ':@' && k !== '#text');
    if (name === undefined) continue;
    const rawAttrs = record[':@'];
    const attrs: Record<string, string> = {};
    if (typeof rawAttrs === 'object' && rawAttrs !== null) {
      for (const [k, v] of Object.entries(rawAttrs)) if (typeof v === 'string') attrs[k] = v;
    }
    const content = Array.isArray(record[name]) ? (record[name] as unknown[]) : [];
    let text = '';
    for (const c of content) {
      const t = typeof c === 'object' && c !== null ? (c as Record<string, unknown>)['#text'] : undefined;
      if (typeof t === 'string' || typeof t === 'number') text += String(t);
    }
    const meta = record[META] as { startIndex?: number } | undefined;
    out.push({ name, attrs, children: toElements(content, lines), text, line: lineOf(lines, meta?.startIndex ?? 0) });
  }
  return out;
}

/** A host as it goes in a URL: an IPv6 address in brackets. */
function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** `user:password@` for a URL, percent-encoded; '' without a user. */
function userInfo(user: string | undefined, password: string | undefined): string {
  if (!user) return '';
  return `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}@`;
}

/** A DSS `url` pref as a URL path: a leading `/` added, and what may not stand in a URL
 * percent-encoded (StringTranslator::EncodeURL did so), existing `%XX` escapes kept. */
function urlPath(url: string): string {
  const path = url.startsWith('/') ? url : `/${url}`;
  return path.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/gu, (c) => encodeURIComponent(c));
}

/** The path name a URL path stands for: no leading `/`, no query, no `.sdp`, percent-decoded; or
 * why it cannot be one. */
function pathName(urlPathText: string): { name: string } | { why: string } {
  let p = urlPathText.split('?')[0].replace(/^\/+/, '').replace(/\.sdp$/i, '');
  try {
    p = decodeURIComponent(p);
  } catch {
    return { why: `'${p}' has a broken %-escape` };
  }
  if (p === '') return { why: 'names no path' };
  if (p.startsWith('~')) return { why: `'${p}' would read as a ~regex in paths:` };
  if (p.split('/').some((s) => s === '' || s === '.' || s === '..')) return { why: `'${p}' has an empty, . or .. part` };
  return { name: p };
}

/** Whether two URL paths name the same path. */
function sameName(a: string, b: string): boolean {
  const x = pathName(a);
  const y = pathName(b);
  return 'name' in x && 'name' in y && x.name === y.name;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Turns relays into paths, collecting issues. */
class RelayReader {
  readonly paths: DssRelayPath[] = [];
  readonly issues: DssRelayIssue[] = [];
  readonly #byName = new Map<string, DssRelayPath>();

  constructor(readonly rtspPorts: readonly number[]) {}

  issue(el: XmlElement, relay: string, level: DssRelayIssue['level'], reason: string): void {
    this.issues.push({ line: el.line, element: label(el), relay, level, reason });
  }

  /** The prefs of a source or destination, reporting unknown and repeated ones. */
  #prefs(obj: XmlElement, type: string, relay: string): Prefs {
    const prefs: Prefs = { values: new Map(), lists: new Map() };
    const known = KNOWN_PREFS[type] ?? [];
    for (const el of obj.children) {
      const name = el.attrs.NAME ?? '';
      if (el.name !== 'PREF' && el.name !== 'LIST-PREF') {
        this.issue(el, relay, 'info', `not a PREF or LIST-PREF: ignored, as DSS did`);
        continue;
      }
      if (!known.includes(name)) {
        this.issue(el, relay, 'info', `${type} has no pref '${name}': ignored, as DSS did`);
        continue;
      }
      if (prefs.values.has(name) || prefs.lists.has(name)) {
        this.issue(el, relay, 'warn', `'${name}' is given twice: the first is used, as DSS did`);
        continue;
      }
      if (el.name === 'PREF') {
        const value = VERBATIM.has(name) ? el.text : el.text.trim();
        // The admin wrote empty prefs for fields left blank: they mean "not given".
        if (value !== '') prefs.values.set(name, { value, el });
      } else {
        const values = el.children.filter((c) => c.name === 'VALUE').map((c) => c.text.trim());
        if (values.length > 0) prefs.lists.set(name, { values, el });
      }
    }
    return prefs;
  }

  /** The `rtsp_port` pref: its number, 554 when absent, undefined (reported: `what` is skipped)
   * when bad. */
  #rtspPort(prefs: Prefs, relay: string, what: 'relay' | 'destination'): number | undefined {
    const p = prefs.values.get('rtsp_port');
    if (!p) return 554;
    if (/^\d{1,5}$/.test(p.value) && Number(p.value) >= 1 && Number(p.value) <= 65535) return Number(p.value);
    this.issue(p.el, relay, 'warn', `rtsp_port '${p.value.slice(0, 40)}' is not a port from 1 to 65535: ${what} skipped`);
    return undefined;
  }

  relay(el: XmlElement, relay: string): void {
    const enabled = el.children.find((c) => c.name === 'PREF' && c.attrs.NAME === 'enabled');
    if (enabled && enabled.text === 'false') {
      this.issue(el, relay, 'info', 'disabled (enabled is false): skipped');
      return;
    }
    if (enabled && enabled.text !== 'true') {
      this.issue(enabled, relay, 'warn', `enabled is '${enabled.text.slice(0, 40)}': only 'false' disables a relay (as in DSS), so it runs`);
    }
    const sources = el.children.filter((c) => c.name === 'OBJECT' && c.attrs.CLASS === 'source');
    const source = sources[0];
    if (!source) {
      this.issue(el, relay, 'warn', 'has no <OBJECT CLASS="source">: skipped, as DSS skipped it');
      return;
    }
    for (const extra of sources.slice(1)) this.issue(extra, relay, 'warn', 'a second source: DSS used the first, and so does Rivulet');
    for (const c of el.children) {
      const known = (c.name === 'OBJECT' && (c.attrs.CLASS === 'source' || c.attrs.CLASS === 'destination')) || (c.name === 'PREF' && c.attrs.NAME === 'enabled');
      if (!known) this.issue(c, relay, 'info', 'not a source, destination or the enabled pref: ignored, as DSS did');
    }
    const dests = el.children.filter((c) => c.name === 'OBJECT' && c.attrs.CLASS === 'destination');
    const type = source.attrs.TYPE ?? '';
    if (!Object.hasOwn(KNOWN_PREFS, type) || type.endsWith('_destination')) {
      this.issue(source, relay, 'warn', `source type '${type.slice(0, 40)}' is unknown (DSS knew rtsp_source, announced_source, udp_source, relay_sdp): skipped`);
      return;
    }
    const prefs = this.#prefs(source, type, relay);
    if (type === 'rtsp_source') this.#rtspSource(el, relay, source, prefs, dests);
    else if (type === 'announced_source') this.#announcedSource(el, relay, source, prefs, dests);
    else if (type === 'udp_source') this.#udpSource(relay, source, prefs, dests);
    else {
      const sdp = prefs.values.get('sdp_path')?.value ?? '<file>';
      this.issue(source, relay, 'warn', `relay_sdp (the source and its destinations in one SDP file, a=x-qt-relay-addr/port) is not read: write paths.<name>.source: sdp:${sdp} with forward: [udp://address:port] instead`);
    }
  }

  #rtspSource(el: XmlElement, relay: string, source: XmlElement, prefs: Prefs, dests: XmlElement[]): void {
    const url = prefs.values.get('url')?.value;
    let host = prefs.values.get('source_addr')?.value;
    const port = this.#rtspPort(prefs, relay, 'relay');
    if (port === undefined) return;
    const user = prefs.values.get('name')?.value;
    const password = prefs.values.get('password')?.value;
    if (password && !user) this.issue(prefs.values.get('password')!.el, relay, 'warn', 'a password without a name: no credentials are sent');
    const inAddr = prefs.values.get('in_addr');
    if (inAddr) this.issue(inAddr.el, relay, 'warn', `in_addr ${inAddr.value} is not honoured: the system picks the local address of the connection`);
    if (!url) {
      this.issue(source, relay, 'warn', 'rtsp_source has no url (the stream to request): skipped');
      return;
    }
    let path: string;
    if (/^rtsp:\/\//i.test(url)) {
      // DSS connected to source_addr:rtsp_port and sent the full URL in its requests.
      const full = /^rtsp:\/\/(\[[^\]]*\]|[^/:?]*)(?::\d+)?([/?].*)?$/i.exec(url);
      if (!full) {
        this.issue(prefs.values.get('url')!.el, relay, 'warn', `url '${redactUrl(url)}' is not a URL DSS could request: skipped`);
        return;
      }
      const urlHostName = full[1].replace(/^\[|\]$/g, '');
      if (host && host !== urlHostName) this.issue(prefs.values.get('url')!.el, relay, 'info', `the url's host ${urlHostName} is not used: DSS connected to source_addr ${host}, and so does Rivulet`);
      host ??= urlHostName;
      path = urlPath(full[2] ?? '/');
    } else path = urlPath(url);
    if (!host) {
      this.issue(source, relay, 'warn', 'rtsp_source has no source_addr (the server to pull from): skipped');
      return;
    }
    const portText = prefs.values.has('rtsp_port') ? `:${port}` : '';
    const pull = `rtsp://${userInfo(user, password)}${urlHost(host)}${portText}${path}`;
    const { push, forward, self } = this.#destinations(relay, dests, path);
    if (self.length === 0 && push.length + forward.length === 0) {
      if (dests.length === 0) this.issue(el, relay, 'info', 'has no destination: DSS ran nothing for it, and nor does Rivulet');
      else this.issue(el, relay, 'warn', 'none of its destinations can be honoured: skipped');
      return;
    }
    // Announced to this server itself, the stream was watched at that destination's url.
    const named = self[0] ?? { path, el: source };
    for (const s of self.slice(1)) this.issue(s.el, relay, 'warn', `a second announced_destination to this server (${s.path}): the stream has one path here, '${named.path}'`);
    this.#add(el, relay, named, { source: pull, ...(push.length ? { push } : {}), ...(forward.length ? { forward } : {}) });
  }

  #announcedSource(el: XmlElement, relay: string, source: XmlElement, prefs: Prefs, dests: XmlElement[]): void {
    const url = prefs.values.get('url')?.value;
    const addr = prefs.values.get('source_addr');
    for (const p of ['name', 'password']) {
      const v = prefs.values.get(p);
      if (v) this.issue(v.el, relay, 'info', `${p} of an announced_source is not used (DSS did not use it either): publishers log in as paths: and the users file say`);
    }
    if (!url) {
      if (dests.length > 0) {
        this.issue(source, relay, 'warn', `an announced_source without url relays every announced stream${addr ? ` from ${addr.value}` : ''}; Rivulet's destinations are per path: add push or forward to each paths: entry instead`);
      } else this.issue(el, relay, 'info', 'an announced_source rule with no destination does nothing: skipped');
      return;
    }
    if (addr) this.issue(addr.el, relay, 'warn', `source_addr ${addr.value} is not honoured: streams announced at ${url} from any encoder allowed to publish are relayed`);
    const path = urlPath(url);
    const { push, forward, self } = this.#destinations(relay, dests, path);
    const named = { path, el: source };
    for (const s of self) {
      if (!sameName(s.path, path)) this.issue(s.el, relay, 'warn', `the announce to this server at ${s.path} is not honoured: viewers watch the stream at ${path}`);
    }
    if (push.length + forward.length === 0) {
      if (dests.length === 0 || self.length === dests.length) this.issue(el, relay, 'info', 'has no destination elsewhere: publishers of the path need no relay');
      else this.issue(el, relay, 'warn', 'none of its destinations can be honoured: skipped');
      return;
    }
    this.#add(el, relay, named, { ...(push.length ? { push } : {}), ...(forward.length ? { forward } : {}) });
  }

  #udpSource(relay: string, source: XmlElement, prefs: Prefs, dests: XmlElement[]): void {
    const inAddr = prefs.values.get('in_addr')?.value ?? '';
    const ports = prefs.lists.get('udp_ports')?.values ?? [];
    const from = prefs.values.get('source_addr')?.value;
    const url = `udp://${urlHost(inAddr)}:${ports[0] ?? '<port>'}${from ? `?source=${from}` : ''}`;
    const { forward } = this.#destinations(relay, dests, '');
    const fwd = forward.length ? `, forward: [${forward.map((f) => `udp://${urlHost(f.host)}:${f.port}${f.ttl ? `?ttl=${f.ttl}` : ''}`).join(', ')}]` : '';
    this.issue(source, relay, 'warn', `udp_source is not run: Rivulet needs an SDP saying what the RTP carries, which DSS relayed blind. Write it in paths: as { source: ${url}, sdp: <file or inline SDP>${fwd} }`);
  }

  /** The destinations of a relay: pushes, forwards, and announces to this server itself (with
   * the path they name). `sourcePath`: the url an announced destination defaults to. */
  #destinations(relay: string, dests: XmlElement[], sourcePath: string) {
    const push: string[] = [];
    const forward: { host: string; port: number; ttl?: number; iface?: string }[] = [];
    const self: { path: string; el: XmlElement }[] = [];
    for (const d of dests) {
      const type = d.attrs.TYPE ?? '';
      if (type !== 'udp_destination' && type !== 'announced_destination') {
        this.issue(d, relay, 'warn', `destination type '${type}' is unknown (DSS knew udp_destination and announced_destination): skipped`);
        continue;
      }
      const prefs = this.#prefs(d, type, relay);
      const host = prefs.values.get('dest_addr')?.value;
      if (!host) {
        this.issue(d, relay, 'warn', `${type} has no dest_addr: skipped`);
        continue;
      }
      if (type === 'udp_destination') {
        const f = this.#forward(d, relay, prefs, host);
        if (f) forward.push(f);
        continue;
      }
      if (!sourcePath) {
        this.issue(d, relay, 'info', 'an announced_destination of a udp_source is ignored, as DSS ignored it');
        continue;
      }
      const port = this.#rtspPort(prefs, relay, 'destination');
      if (port === undefined) continue;
      const out = prefs.values.get('out_addr');
      const url = prefs.values.get('url')?.value;
      const path = url ? urlPath(url) : sourcePath;
      if (isLoopback(host) && this.rtspPorts.includes(port)) {
        self.push({ path, el: d });
        continue;
      }
      if (out) this.issue(out.el, relay, 'warn', `out_addr ${out.value} is not honoured: the system picks the local address of the connection`);
      const target = `rtsp://${userInfo(prefs.values.get('name')?.value, prefs.values.get('password')?.value)}${urlHost(host)}${prefs.values.has('rtsp_port') ? `:${port}` : ''}${path}`;
      push.push(target);
    }
    return { push, forward, self };
  }

  /** A udp_destination as a forward: ports two apart from the first, as Rivulet sends them. */
  #forward(d: XmlElement, relay: string, prefs: Prefs, host: string): { host: string; port: number; ttl?: number; iface?: string } | undefined {
    const list = prefs.lists.get('udp_ports');
    const base = prefs.values.get('udp_base_port');
    let port: number;
    if (list) {
      const ports = list.values.map(Number);
      if (!ports.every((p, i) => Number.isInteger(p) && p === ports[0] + 2 * i)) {
        this.issue(list.el, relay, 'warn', `udp_ports ${list.values.join(' ')} are not two apart from the first: Rivulet sends track N to the first port + 2N; destination skipped`);
        return undefined;
      }
      port = ports[0];
      if (base) this.issue(base.el, relay, 'info', 'udp_base_port is not used when udp_ports is given, as in DSS');
    } else if (base && /^\d{1,5}$/.test(base.value)) {
      port = Number(base.value);
    } else if (base) {
      this.issue(base.el, relay, 'warn', `udp_base_port '${base.value}' is not a port number: destination skipped`);
      return undefined;
    } else {
      this.issue(d, relay, 'warn', 'udp_destination has neither udp_ports nor udp_base_port: skipped');
      return undefined;
    }
    const ttl = prefs.values.get('ttl');
    if (ttl && !/^\d{1,3}$/.test(ttl.value)) {
      this.issue(ttl.el, relay, 'warn', `ttl '${ttl.value}' is not a whole number from 1 to 255: destination skipped`);
      return undefined;
    }
    const out = prefs.values.get('out_addr');
    const f = { host, port, ...(ttl ? { ttl: Number(ttl.value) } : {}), ...(out ? { iface: out.value } : {}) };
    const r = pathsSchema.safeParse({ x: { forward: [f] } });
    if (!r.success) {
      this.issue(d, relay, 'warn', `${r.error.issues.map((i) => i.message).join('; ')}: destination skipped`);
      return undefined;
    }
    return f;
  }

  /** Adds the relay's path, checked by the paths: schema; a name taken by an earlier relay, or
   * an entry the schema refuses, is reported and left out. */
  #add(el: XmlElement, relay: string, named: { path: string; el: XmlElement }, input: Record<string, unknown>): void {
    const n = pathName(named.path);
    if ('why' in n) {
      this.issue(named.el, relay, 'warn', `${named.path} cannot be a path name here (${n.why}): skipped`);
      return;
    }
    const taken = this.#byName.get(n.name);
    if (taken) {
      this.issue(el, relay, 'warn', `path '${n.name}' is already fed by relay ${taken.relay} (line ${taken.line}): skipped`);
      return;
    }
    const r = pathsSchema.safeParse({ [n.name]: input });
    if (!r.success) {
      const why = r.error.issues.map((i) => `${i.path.slice(1).join('.')}: ${i.message}`).join('; ');
      this.issue(el, relay, 'warn', `as paths.${n.name} it would not be valid (${why}): skipped`);
      return;
    }
    const p: DssRelayPath = { name: n.name, entry: r.data[n.name], relay, line: el.line };
    this.#byName.set(n.name, p);
    this.paths.push(p);
  }
}
