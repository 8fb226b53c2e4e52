/** The configuration model: every key, its type, its default and its limits, in one place.
 * The example config (rivulet.example.yaml) documents the same keys for users. */
import { z } from 'zod';
import { forwardSchema, pushSchema, RELAY_DEFAULTS, relaysSchema, retrySchema, sdpMediaPorts, sdpSchema, sdpSetting } from './relay-schema.js';
import { parseRtspUrl, parseUdpSource, redactUrl } from './relay-urls.js';
import { parseMulticastRange } from '../net/multicast-range.js';

const port = z.number().int().min(0).max(65535);

/** The live keys a `paths:` entry may override, with the same types and limits in both places. */
const publishAllow = z.array(z.string().min(1));
const graceTime = z.number().min(0).max(3600);
const takeover = z.boolean();

export const rtspSchema = z
  .object({
    /** TCP ports the RTSP listener accepts on (0 = any free port). */
    ports: z.array(port).min(1).default([8554]),
    /** Extra TCP ports for RTSP over HTTP tunnelling (e.g. 80); they take plain RTSP too.
     * Every RTSP port serves tunnels anyway. 0 = any free port. */
    httpPorts: z.array(port).default([]),
    /** Addresses to listen on; `0.0.0.0` is every IPv4 interface, `::` every IPv6 one. */
    bind: z.array(z.string().min(1)).min(1).default(['0.0.0.0', '::']),
    /** Seconds a session lives without a request or RTCP report; advertised in `Session:`. */
    sessionTimeout: z.number().int().min(5).max(86400).default(60),
    /** Largest request header block, bytes (413 and close when exceeded). */
    maxHeaderBytes: z.number().int().min(1024).max(1048576).default(8192),
    /** Largest request body, bytes (413 and close when exceeded). */
    maxBodyBytes: z.number().int().min(0).max(16777216).default(65536),
    /** Longest request line or header line, bytes (414 for the request line, 413 for a header
     * line, and the connection closes). */
    maxLineBytes: z.number().int().min(256).max(1048576).default(4096),
    /** Most header fields in one request (400 and close when exceeded). */
    maxHeaderCount: z.number().int().min(8).max(1000).default(64),
    /** Value of the `Server:` header; empty to leave the header out. */
    serverHeader: z.string().default('Rivulet'),
  })
  .strict();

export const rtpSchema = z
  .object({
    /** Largest RTP payload in bytes, RTP header excluded. */
    maxPayloadSize: z.number().int().min(200).max(65000).default(1400),
    /** Lowest local UDP port for RTP (even) / RTCP (odd) pairs. */
    portMin: z.number().int().min(1024).max(65534).default(6970),
    /** Highest local UDP port for RTP/RTCP pairs. */
    portMax: z.number().int().min(1025).max(65535).default(29999),
    /** Seconds between RTCP sender reports per track. */
    rtcpInterval: z.number().min(0.5).max(60).default(5),
    /** Who makes the UDP send system calls of RTP: 'auto' a sending thread beside the event loop
     * when the machine has more than one core and the native helper is built, 'on' that thread
     * whenever the helper is built, 'off' the event loop itself. */
    sendThread: z.enum(['auto', 'on', 'off']).default('auto'),
  })
  .strict()
  .refine((r) => r.portMax > r.portMin, { message: 'rtp.portMax must be above rtp.portMin', path: ['portMax'] });

export const mediaSchema = z
  .object({
    /** Folder whose files are served; URLs map to paths inside it and never outside. */
    dir: z.string().min(1).default('./media'),
  })
  .strict();

export const vodSchema = z
  .object({
    /** Seconds of media sent ahead of real time, so players have a small cushion. */
    sendAhead: z.number().min(0).max(10).default(0.25),
    /** Bytes read from disk at once per viewer (read-ahead window). */
    readAhead: z.number().int().min(4096).max(16777216).default(65536),
    /** Bytes of movie data kept in memory and shared by every viewer of a file, and the bound of
     * the RTP payloads made from it, shared likewise (0 = neither: each viewer reads its own
     * readAhead windows and packetizes its own). */
    readCacheBytes: z.number().int().min(0).max(68719476736).default(134217728),
    /** Stream hinted movies from their RTP hint tracks, as QTSS did; false packetizes natively
     * (a hint track is then used only for codecs Rivulet cannot packetize). */
    preferHintTracks: z.boolean().default(true),
    /** Instant-On (DSS's overbuffer_rate): after a PLAY, the send-ahead grows by (rate - 1)
     * seconds per second, so a player's first seconds arrive this many times faster than real
     * time, over UDP and TCP alike; 1 turns it off. Normal play only (not trick play). */
    overbufferRate: z.number().min(1).max(10).default(2),
    /** Seconds of media the send-ahead grows to with overbuffering (DSS's max_send_ahead_time,
     * 25 there). Small by default: a player's jitter buffer holds what arrives early, and the
     * first seconds are what makes it start at once. Below sendAhead means sendAhead. */
    maxSendAheadTime: z.number().min(0).max(60).default(2),
    /** Largest RTSP Speed honoured (DSS's max_allowed_speed): faster requests get this, and the
     * answer says so. */
    maxSpeed: z.number().min(1).max(16).default(4),
  })
  .strict();

export const liveSchema = z
  .object({
    /** Addresses/CIDRs allowed to publish without credentials; [] allows none. */
    publishAllow: publishAllow.default(['127.0.0.0/8', '::1']),
    /** Seconds without packets after which a publisher is considered gone. */
    publisherTimeout: z.number().min(1).max(3600).default(20),
    /** Seconds viewers wait for a vanished publisher to return before they get BYE. */
    graceTime: graceTime.default(10),
    /** A second publisher on a path in use takes it over (else it gets 412). */
    takeover: takeover.default(false),
    /** Write each announced SDP as <name>.sdp in the media folder, as QTSS did. */
    writeSdp: z.boolean().default(false),
    /** Bytes a TCP viewer may have queued before it skips to the next keyframe. */
    viewerQueueBytes: z.number().int().min(16384).max(67108864).default(1048576),
    /** Seconds an SDP-file stream keeps listening with no viewers. */
    sdpIdleTimeout: z.number().min(1).max(86400).default(60),
    /** Milliseconds of data gathered per TCP viewer, live or file, before one write (0: every frame at once). */
    tcpBatchMs: z.number().int().min(0).max(1000).default(100),
    /** Seconds a viewer's PLAY waits for the first keyframe, so RTP-Info names its packet. */
    keyframeWait: z.number().min(0).max(30).default(4),
    /** Bytes one live video frame may gather before it is cut: what arrived so far goes out to
     * viewers as a frame of its own and the rest follows as further frames (nothing is lost,
     * memory stays bounded). Also caps the frame at maxFrameBytes/256 packets. 8 MiB holds real
     * 4K keyframes. */
    maxFrameBytes: z.number().int().min(65536).max(67108864).default(8388608),
  })
  .strict();

/** The regular expression a `paths:` key written `~regex` stands for, or undefined for an exact
 * path name. Throws SyntaxError for a bad regex (the schema reports it naming the key). */
export function pathPattern(key: string): RegExp | undefined {
  return key.startsWith('~') ? new RegExp(key.slice(1)) : undefined;
}

/** The kinds of source a `paths:` entry may name, `<scheme>:<target>`, each with the form its
 * errors show. Each kind has a starter in src/sources/kinds.ts, whose type holds it to this list:
 * a new kind is one entry here and one there. */
export const SOURCE_FORMS = {
  /** An SDP file describing an RTP/UDP feed; relative to media.dir. */
  sdp: 'sdp:<file>',
  /** A relay pull: DESCRIBE/SETUP/PLAY from another server (`relay-urls.ts` reads it). */
  rtsp: 'rtsp://[user:password@]host[:port]/path',
  /** The same over TLS. */
  rtsps: 'rtsps://[user:password@]host[:port]/path',
  /** RTP arriving at a port, unicast or from a multicast group it joins; `paths.<name>.sdp` says
   * what it carries. */
  udp: 'udp://[group|address]:port',
} as const;

/** Every scheme `source:` accepts. */
export type SourceFormScheme = keyof typeof SOURCE_FORMS;

/** Every kind of configured source the server starts: the `source:` forms, and `playlist`, which
 * has a key of its own (`paths.<name>.playlist`) since its settings do not fit in one string. */
export type SourceScheme = SourceFormScheme | 'playlist';

/** The relay sources: pulled from another server or received on a UDP port. */
const RELAY_SCHEMES: readonly SourceFormScheme[] = ['rtsp', 'rtsps', 'udp'];

/** A configured source, `<scheme>:<target>` split; `publisher` (encoders push, the default) is
 * undefined. */
export interface SourceSpec {
  scheme: SourceScheme;
  /** For `sdp`, the file; for a URL form, the URL as written; for `playlist`, the `.playlist`
   * file as written, or the list as JSON (it names the source in logs and tells a changed one on
   * reload). */
  target: string;
  /** `playlist` only: the setting as the schema read it. */
  playlist?: PathPlaylist;
}

/** A `source:` value read: its form's scheme and target. */
export interface ParsedSource {
  scheme: SourceFormScheme;
  target: string;
}

/** Whether a configured source starts with its first viewer when the entry does not say: `sdp:`
 * files do, as DSS reflected SDP files on demand; relays are always on, as DSS relays were (an
 * edge of a tier has the stream ready, a camera is read once); a path with destinations always
 * is, since they need the stream running. */
export function onDemandByDefault(scheme: SourceFormScheme, e: Pick<PathSettings, 'push' | 'forward'>): boolean {
  return !hasDestinations(e) && !RELAY_SCHEMES.includes(scheme);
}

function hasDestinations(e: Pick<PathSettings, 'push' | 'forward'>): boolean {
  return (e.push?.length ?? 0) + (e.forward?.length ?? 0) > 0;
}

/** The source configured at one exact path, if any: `source:` or `playlist:`, with the key it
 * came from (for messages) and whether it starts on the first viewer. */
export function configuredSource(e: PathSettings): { setting: 'source' | 'playlist'; spec: SourceSpec; onDemand: boolean } | undefined {
  if (e.playlist !== undefined) {
    const p = e.playlist;
    const target = typeof p === 'string' ? p : JSON.stringify(p);
    // A DSS playlist broadcasts from the server's start, as PlaylistBroadcaster did.
    return { setting: 'playlist', spec: { scheme: 'playlist', target, playlist: p }, onDemand: typeof p === 'string' ? false : !p.autostart };
  }
  const parsed = e.source === undefined ? undefined : parseSource(e.source);
  // The schema has refused bad values already; a string here would be a value it let pass.
  if (parsed === undefined || typeof parsed === 'string') return undefined;
  const { scheme, target } = parsed;
  return { setting: 'source', spec: { scheme, target }, onDemand: e.sourceOnDemand ?? onDemandByDefault(scheme, e) };
}

/** How a path's configured `source:` starts, stops and retries, defaults applied. */
export interface SourceTimings {
  /** Starts with its first viewer (else with the server, restarted whenever it ends). */
  onDemand: boolean;
  /** Seconds a first viewer's DESCRIBE waits for an on-demand rtsp(s):// source's description. */
  describeTimeout: number;
  /** Seconds an on-demand source runs on after its last viewer left. */
  idleTimeout: number;
  /** Backoff between attempts to start it again, seconds. */
  retry: { min: number; max: number };
}

/** The timings of the `source:` configured on `e` (undefined when it has none): its keys, or the
 * defaults (`RELAY_DEFAULTS`, `live.sdpIdleTimeout`). */
export function sourceTimings(e: PathSettings, live: Pick<Config['live'], 'sdpIdleTimeout'>): SourceTimings | undefined {
  const parsed = e.source === undefined ? undefined : parseSource(e.source);
  if (parsed === undefined || typeof parsed === 'string') return undefined;
  return {
    onDemand: e.sourceOnDemand ?? onDemandByDefault(parsed.scheme, e),
    describeTimeout: e.sourceDescribeTimeout ?? RELAY_DEFAULTS.describeTimeout,
    idleTimeout: e.sourceIdleTimeout ?? live.sdpIdleTimeout,
    retry: e.sourceRetry ?? { ...RELAY_DEFAULTS.retry },
  };
}

/** The `source:` forms for messages: `a, b or c`. */
function formsList(): string {
  const forms = Object.values(SOURCE_FORMS);
  return `${forms.slice(0, -1).join(', ')} or ${forms[forms.length - 1]}`;
}

/** Reads a `paths.<name>.source` value: the form it has, undefined for `publisher`, or a string
 * saying what is wrong with it. A URL form (`rtsp://…`, `udp://…`) is read strictly, and its
 * target is the whole URL. */
export function parseSource(text: string): ParsedSource | undefined | string {
  if (text === 'publisher') return undefined;
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon).toLowerCase() : '';
  const target = text.slice(colon + 1);
  const known = Object.keys(SOURCE_FORMS);
  if (!known.includes(scheme) || target.trim() === '') {
    return `expected publisher, ${formsList()}, got '${redactUrl(text)}'`;
  }
  if (scheme === 'rtsp' || scheme === 'rtsps' || scheme === 'udp') {
    const url = scheme === 'udp' ? parseUdpSource(text) : parseRtspUrl(text);
    if (typeof url === 'string') return `${url} (got '${redactUrl(text)}')`;
    return { scheme, target: text };
  }
  return { scheme: scheme as SourceFormScheme, target };
}

/** A playlist's scheduled start or end: an ISO 8601 date and time with its zone
 * (`2026-12-24T20:00:00Z`, `2026-12-24T20:00:00+01:00`), or `*N`, N seconds after the server
 * started the playlist (as DSS's `broadcast_start_time *N`). */
export const broadcastTime = z.string().refine(
  (t) => /^\*\d{1,9}$/.test(t) || (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(t) && !Number.isNaN(Date.parse(t))),
  'expected an ISO 8601 date and time with its zone (2026-12-24T20:00:00Z) or *N (N seconds after the start)',
);

/** One item of a native playlist: a media file (relative to media.dir), or one with its weight
 * for weighted_random (default 10, as in DSS). */
const playlistItem = z.union([z.string().min(1), z.object({ file: z.string().min(1), weight: z.number().positive().max(1e6) }).strict()]);

/** `paths.<name>.playlist`: the path is a live channel broadcasting files one after another.
 * Either the path of a DSS `.playlist` file (relative to media.dir; the `.config` of the same
 * base name beside it is read too), or the list itself. */
const playlistList = z
  .object({
    /** Media files (relative to media.dir) or `{ file, weight }`. */
    items: z.array(playlistItem).min(1),
    /** sequential (once, then the broadcast ends), sequential_looped, weighted_random. */
    mode: z.enum(['sequential', 'sequential_looped', 'weighted_random']).default('sequential_looped'),
    /** weighted_random: how many of the latest picks may not play again. */
    recent: z.number().int().min(0).default(0),
    /** Default true: broadcast from the server's start (restarted if it fails); false: from
     * the first viewer until live.sdpIdleTimeout seconds without viewers. */
    autostart: z.boolean().default(true),
    /** When the broadcast starts (`broadcastTime`); absent: at once. */
    start: broadcastTime.optional(),
    /** When it ends; absent: never. */
    end: broadcastTime.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const files = new Set(p.items.map((i) => (typeof i === 'string' ? i : i.file))).size;
    if (p.mode === 'weighted_random' && p.recent >= files) {
      ctx.addIssue({ code: 'custom', path: ['recent'], message: `is ${p.recent} but the playlist has ${files} different item${files === 1 ? '' : 's'}: it must be smaller than that, or nothing is left to play` });
    }
  });

export type PathPlaylist = string | z.infer<typeof playlistList>;

/** A string or the list, told apart by type first, so a mistake in the list is reported at its
 * key (`paths.x.playlist.mode: …`) rather than as a union neither side of which matched. */
export const pathPlaylistSchema = z.unknown().transform((v, ctx): PathPlaylist => {
  const r = typeof v === 'string' ? z.string().min(1).safeParse(v) : playlistList.safeParse(v);
  if (r.success) return r.data;
  for (const i of r.error.issues) {
    const unknown = i.code === 'unrecognized_keys' ? `unknown key ${i.keys.map((k) => `'${k}'`).join(', ')}` : undefined;
    const message = typeof v === 'object' && v !== null ? (unknown ?? i.message) : 'expected the path of a .playlist file or { items, mode, recent, start, end, autostart }';
    ctx.addIssue({ code: 'custom', path: i.path, message });
  }
  return z.NEVER;
});

/** Settings of one `paths:` entry: each overrides the `live:` key of the same name, except
 * `source` and what follows it, which are the path's own. */
export const pathSettingsSchema = z
  .object({
    /** Addresses/CIDRs allowed to publish to the path without credentials (live.publishAllow). */
    publishAllow: publishAllow.optional(),
    /** Seconds the path's viewers wait for a vanished publisher (live.graceTime). */
    graceTime: graceTime.optional(),
    /** Another path whose audio ICY listeners hear while this path's source is away (within its
     * graceTime), as Icecast's fallback-mount; they come back when the source returns. A path
     * name, with or without the leading slash (a mount, a playlist, any live audio path). */
    fallback: z
      .string()
      .regex(/^\/?[^?#\s]+$/, 'a path such as /backup')
      .transform((p) => p.replace(/^\/+/, ''))
      .optional(),
    /** A second publisher on the path takes it over (live.takeover). */
    takeover: takeover.optional(),
    /** What feeds the path: `publisher` (default: encoders push with ANNOUNCE/RECORD) or a
     * configured source (SOURCE_FORMS): `sdp:<file>` (an SDP file describing an RTP/UDP feed,
     * relative to media.dir), `rtsp://[user:password@]host[:port]/path` or `rtsps://…` (pulled
     * from another server; user and password percent-encoded), `udp://[group|address]:port`
     * (RTP arriving there; needs `sdp`). A path with a configured source refuses publishers.
     * Exact path names only. */
    source: z
      .string()
      .superRefine((text, ctx) => {
        const parsed = parseSource(text);
        if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      })
      .optional(),
    /** Whether the configured source starts when the first viewer asks and stops
     * `sourceIdleTimeout` seconds after the last one left (true), or starts with the server and
     * is restarted whenever it ends (false). Default (`onDemandByDefault`): true for `sdp:`,
     * false for relays and for a path with push or forward destinations. */
    sourceOnDemand: z.boolean().optional(),
    /** `udp://` sources: what the RTP carries, an SDP file (relative to media.dir) or inline SDP
     * starting with `v=0`. Track N of it arrives at the URL's port + 2N. */
    sdp: sdpSchema.optional(),
    /** `rtsp://`/`rtsps://` sources: RTP interleaved on the RTSP connection (`tcp`, default) or
     * on UDP ports (`udp`). */
    sourceTransport: z.enum(['tcp', 'udp']).optional(),
    /** On-demand `rtsp://`/`rtsps://` sources: seconds a first viewer's DESCRIBE waits for the
     * source's description before it is answered 504 (default 10). */
    sourceDescribeTimeout: z.number().min(1).max(120).optional(),
    /** On-demand sources: seconds the source runs on after its last viewer left (default
     * live.sdpIdleTimeout). */
    sourceIdleTimeout: z.number().min(1).max(86400).optional(),
    /** `{ min, max }`: seconds between attempts to (re)start the source, doubling from min to
     * max while it fails (default 1 and 30). */
    sourceRetry: retrySchema.optional(),
    /** Servers the path's stream is announced to while it is live (`pushSchema`). */
    push: pushSchema.optional(),
    /** UDP destinations the path's RTP is sent to while it is live (`forwardSchema`). */
    forward: forwardSchema.optional(),
    /** A playlist broadcast as a live channel at this path (`pathPlaylistSchema`); exclusive
     * with `source`. */
    playlist: pathPlaylistSchema.optional(),
  })
  .strict();

export type PathSettings = z.infer<typeof pathSettingsSchema>;

/** Keys only an exact path name may have: each concerns one stream, and a regex names many. */
const EXACT_ONLY = ['playlist', 'sdp', 'sourceTransport', 'sourceDescribeTimeout', 'sourceIdleTimeout', 'sourceRetry', 'push', 'forward'] as const;

/** What is wrong with the keys of one path entry taken together, each with the key it concerns:
 * a key that does not go with the entry's source, a `udp://` source without its SDP… */
function entryIssues(key: string, e: PathSettings): { at: keyof PathSettings; message: string }[] {
  const out: { at: keyof PathSettings; message: string }[] = [];
  const regex = key.startsWith('~');
  const parsed = e.source === undefined ? undefined : parseSource(e.source);
  const scheme = parsed === undefined || typeof parsed === 'string' ? undefined : parsed.scheme;
  if (regex) {
    // A source feeds one stream: a regex names many paths, and which of them would it feed?
    if (scheme) out.push({ at: 'source', message: 'only an exact path name may have a source, not a ~regex' });
    for (const k of EXACT_ONLY) if (e[k] !== undefined) out.push({ at: k, message: `only an exact path name may have ${k === 'playlist' ? 'a playlist' : k}, not a ~regex` });
    if (out.length > 0) return out;
  }
  if (e.playlist !== undefined && e.source !== undefined) {
    out.push({ at: 'playlist', message: `a path is fed by its playlist or by its source, not both (source: ${redactUrl(e.source)})` });
  }
  const destinations = hasDestinations(e) ? 'push/forward destinations need the stream running whoever watches' : undefined;
  if (e.sourceOnDemand !== undefined && e.playlist !== undefined) {
    out.push({ at: 'sourceOnDemand', message: `does not apply to a playlist: paths.${key}.playlist.autostart says when it starts` });
  } else if (e.sourceOnDemand !== undefined && !scheme) {
    out.push({ at: 'sourceOnDemand', message: `applies to a configured source only (source: ${formsList()})` });
  } else if (e.sourceOnDemand === true && destinations) {
    out.push({ at: 'sourceOnDemand', message: `cannot be true here: ${destinations}` });
  }
  if (destinations && typeof e.playlist === 'object' && !e.playlist.autostart) {
    out.push({ at: 'playlist', message: `autostart cannot be false here: ${destinations}` });
  }
  const rtsp = scheme === 'rtsp' || scheme === 'rtsps';
  if (scheme === 'udp' && e.sdp === undefined) {
    out.push({ at: 'sdp', message: 'is missing: a udp:// source needs an SDP file (relative to media.dir) or inline SDP saying what its RTP carries' });
  } else if (e.sdp !== undefined && scheme !== 'udp') {
    out.push({ at: 'sdp', message: `applies to a udp:// source only${scheme === 'sdp' ? ' (sdp:<file> names its own SDP file)' : ''}` });
  } else if (scheme === 'udp' && e.sdp !== undefined && e.source !== undefined) {
    const why = inlinePortsMismatch(e.source, e.sdp);
    if (why) out.push({ at: 'sdp', message: why });
  }
  if (e.sourceTransport !== undefined && !rtsp) out.push({ at: 'sourceTransport', message: 'applies to an rtsp:// or rtsps:// source only' });
  const onDemand = scheme && (e.sourceOnDemand ?? onDemandByDefault(scheme, e));
  if (e.sourceDescribeTimeout !== undefined) {
    if (!rtsp) out.push({ at: 'sourceDescribeTimeout', message: 'applies to an rtsp:// or rtsps:// source only' });
    else if (!onDemand) out.push({ at: 'sourceDescribeTimeout', message: 'applies to an on-demand source only (sourceOnDemand: true)' });
  }
  const noSource = e.playlist !== undefined ? 'does not apply to a playlist' : `applies to a configured source only (source: ${formsList()})`;
  if (e.sourceIdleTimeout !== undefined) {
    if (!scheme) out.push({ at: 'sourceIdleTimeout', message: noSource });
    else if (!onDemand) out.push({ at: 'sourceIdleTimeout', message: 'applies to an on-demand source only (sourceOnDemand: true)' });
  }
  if (e.sourceRetry !== undefined && !scheme) out.push({ at: 'sourceRetry', message: noSource });
  return out;
}

/** Inline SDP whose m= lines give ports other than where a `udp://…:port` source receives its
 * tracks (port + 2N), said in a sentence; undefined when they agree or give 0. */
function inlinePortsMismatch(source: string, sdp: string): string | undefined {
  const s = sdpSetting(sdp);
  const url = parseUdpSource(source);
  if (!('text' in s) || typeof url === 'string') return undefined;
  const ports = sdpMediaPorts(s.text);
  const i = ports.findIndex((p, n) => p !== 0 && p !== url.port + 2 * n);
  if (i < 0) return undefined;
  const want = url.port + 2 * i;
  return `m= line ${i + 1} gives port ${ports[i]} but ${redactUrl(source)} receives track ${i + 1} at port ${want}: give 0 or ${want} there`;
}

/** Per-path settings: keys are exact path names (`live/cam1`, no leading slash, no `.sdp`) or
 * regular expressions written `~^live/.*$`. An exact name wins; else the first matching regex in
 * file order. */
export const pathsSchema = z.record(z.string(), pathSettingsSchema).superRefine((paths, ctx) => {
  for (const key of Object.keys(paths)) {
    let why: string | undefined;
    if (key === '' || key === '~') why = 'a path name or ~regex, not empty';
    else if (key.startsWith('/')) why = 'a path name without the leading /, e.g. live/cam1';
    else {
      try {
        pathPattern(key);
      } catch (e) {
        why = (e as Error).message;
      }
    }
    if (why) ctx.addIssue({ code: 'custom', path: [key], message: why });
    for (const i of entryIssues(key, paths[key])) ctx.addIssue({ code: 'custom', path: [key, i.at], message: i.message });
  }
});

export const authSchema = z
  .object({
    /** Challenge sent when a login is needed: `digest` (as QTSS), `basic`, or `none` (never ask:
     * what needs a login is refused with 403). A qtaccess `AuthScheme` overrides it per folder. */
    scheme: z.enum(['digest', 'basic', 'none']).default('digest'),
    /** Realm when the users file names none. */
    realm: z.string().min(1).default('Streaming Server'),
    /** Users file (DSS qtusers format) for folders whose qtaccess names none. */
    usersFile: z.string().min(1).default('/etc/streaming/qtusers'),
    /** Groups file (DSS qtgroups format) for folders whose qtaccess names none. */
    groupsFile: z.string().min(1).default('/etc/streaming/qtgroups'),
    /** Name of the per-folder access files. */
    accessFileName: z
      .string()
      .regex(/^[^/\\\0]+$/, 'a file name, not a path')
      .refine((n) => n !== '.' && n !== '..', 'a file name, not a path')
      .default('qtaccess'),
    /** Without an access file on the way up to the media folder, everyone may play (else a
     * login from the users file is needed). */
    allowGuestDefault: z.boolean().default(true),
    /** Members of this group may broadcast (ANNOUNCE/RECORD) anywhere. */
    broadcasterGroup: z.string().min(1).default('broadcaster'),
    /** Seconds a Digest nonce is accepted; older ones get a new challenge with stale=true. */
    nonceLifetime: z.number().int().min(10).max(86400).default(300),
    /** Failed logins from one address before its refusals are slowed down. */
    failuresBeforeDelay: z.number().int().min(0).max(1000).default(3),
    /** Longest delay one more failure adds, seconds (0: never delay). An address's delayed
     * refusals are answered one after another, also across its parallel connections. */
    maxFailureDelay: z.number().min(0).max(60).default(5),
  })
  .strict();

export const tlsSchema = z
  .object({
    /** PEM certificate (chain) file; with `key`, RTSPS is served on `ports`. */
    cert: z.string().min(1).optional(),
    /** PEM private key file of `cert`. */
    key: z.string().min(1).optional(),
    /** TCP ports for RTSP over TLS (RTSPS). Default [8322] when cert and key are set, else []. */
    ports: z.array(port).optional(),
  })
  .strict()
  .refine((t) => !t.ports?.length || (t.cert && t.key), { message: 'RTSPS ports need tls.cert and tls.key', path: ['ports'] })
  .transform((t) => ({ ...t, ports: t.ports ?? (t.cert && t.key ? [8322] : []) }));

export const limitsSchema = z
  .object({
    /** Most RTSP connections plus playing sessions whose connection is gone (0: no limit); a
     * request over it gets 453. Applies live (file edit, SIGHUP, admin). */
    maxConnections: z.number().int().min(0).default(0),
    /** Most kbit/s of media being sent, summed over every playing session (0: no limit); a PLAY
     * over it gets 453. Applies live (file edit, SIGHUP, admin). */
    maxBandwidthKbps: z.number().min(0).default(0),
    /** Open TCP connections from one address (an HTTP tunnel counts two); more are closed at
     * once. 0: no limit. */
    maxConnectionsPerIp: z.number().int().min(0).max(1000000).default(1000),
    /** Requests a connection may have waiting for their answers (pipelined); one more gets 503
     * and the connection closes. */
    maxPendingRequests: z.number().int().min(1).max(10000).default(32),
    /** Seconds a client may take to send a request it has begun (slowloris defence); then 408
     * and the connection closes. */
    requestTimeout: z.number().min(1).max(3600).default(10),
    /** Bytes of answers a connection may have waiting to be sent (a client that pipelines and
     * never reads); past it the server stops reading from the connection until they drain.
     * Connections carrying interleaved media get live.viewerQueueBytes and the file players'
     * backlog on top. */
    maxUnsentBytes: z.number().int().min(16384).max(67108864).default(524288),
    /** Seconds a connection may stay over limits.maxUnsentBytes before it is closed. */
    sendStallTimeout: z.number().min(1).max(3600).default(30),
    /** RTSP sessions one connection may set up and hold at once (each holds UDP ports); one more
     * SETUP gets 453. */
    maxSessionsPerConnection: z.number().int().min(1).max(10000).default(16),
    /** RTSP sessions one client address may hold at once, over all its connections and those
     * outliving them; one more SETUP gets 453. 0: no limit. */
    maxSessionsPerIp: z.number().int().min(0).max(1000000).default(500),
    /** Streams one connection may have announced (ANNOUNCE) at once; one more gets 453. */
    maxAnnouncementsPerConnection: z.number().int().min(1).max(1000).default(8),
    /** Most media (m=) sections in one announced SDP; an ANNOUNCE with more gets 453. */
    maxTracksPerAnnounce: z.number().int().min(1).max(256).default(16),
  })
  .strict();

export const logSchema = z
  .object({
    /** fatal, error, warn, info, debug or trace. */
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `text` for people, `json` for log collectors. */
    format: z.enum(['text', 'json']).default('text'),
  })
  .strict();

/** How a DSS-format log file rolls: by size and by age, as DSS's `*_logfile_size` and
 * `*_logfile_interval` prefs did (0 turns either off). */
const rollSize = z.number().int().min(0).max(2 ** 40);
const rollDays = z.number().int().min(0).max(3650);

export const logsSchema = z
  .object({
    /** Folder of the server's log files: StreamingServer.log, Error.log and each playlist's log
     * of what played. Relative to the config file (the working folder without one). Made when
     * first needed. */
    folder: z.string().min(1).default('./logs'),
    /** Write the access log (StreamingServer.log, W3C extended in DSS 6.0.3's field order): one
     * line per client session at its end and per 401/403. */
    access: z.boolean().default(true),
    /** Write the error log (Error.log, `YYYY-MM-DD HH:MM:SS: LEVEL: message`). */
    error: z.boolean().default(true),
    /** Messages written to Error.log: 0 fatal, 1 + warnings, 2 + info, 3 + asserts, 4 + debug
     * (DSS's error_logfile_verbosity). */
    errorVerbosity: z.number().int().min(0).max(4).default(2),
    /** Roll the access log when it grows past this many bytes (DSS request_logfile_size). */
    accessRollSize: rollSize.default(10240000),
    /** Roll the access log this many days after its creation day began (DSS request_logfile_interval). */
    accessRollDays: rollDays.default(7),
    /** Roll the error log past this many bytes (DSS error_logfile_size). */
    errorRollSize: rollSize.default(256000),
    /** Roll the error log this many days after its creation day began (DSS error_logfile_interval). */
    errorRollDays: rollDays.default(7),
    /** Dates and times in the access log in GMT (DSS request_logtime_in_gmt); false: local time. */
    gmt: z.boolean().default(true),
  })
  .strict();

export const adminSchema = z
  .object({
    /** TCP port of the web admin, the REST API (/api/v1) and the metrics (/metrics), as DSS's
     * streamingadminserver on 1220. 0 turns all three off. */
    port: port.default(1220),
    /** Addresses the admin listens on (as rtsp.bind). */
    bind: z.array(z.string().min(1)).min(1).default(['0.0.0.0', '::']),
    /** Members of this group of auth.groupsFile, with their passwords in auth.usersFile, may
     * sign in (DSS AdministratorGroup). */
    group: z.string().min(1).default('admin'),
    /** PEM certificate and key: the admin is served over HTTPS (cookies then Secure). */
    tls: z
      .object({ cert: z.string().min(1).optional(), key: z.string().min(1).optional() })
      .strict()
      .refine((t) => !t.cert === !t.key, { message: 'admin.tls needs both cert and key' })
      .prefault({}),
    /** Bearer tokens scripts may send (`Authorization: Bearer TOKEN`) instead of a user's
     * password; each at least 16 characters. */
    tokens: z.array(z.string().min(16)).default([]),
    /** Seconds a signed-in browser stays signed in without using the admin. */
    sessionTimeout: z.number().int().min(60).max(7 * 86400).default(3600),
  })
  .strict();

export const stateSchema = z
  .object({
    /** Folder of what must survive a restart (where each playlist was) and of the control
     * socket. Relative to the config file (the working folder without one). Made when needed. */
    folder: z.string().min(1).default('./state'),
  })
  .strict();

export const playlistsSchema = z
  .object({
    /** A folder of DSS playlists: each `NAME.playlist` in it, or `NAME/NAME.playlist` (DSS's
     * layout), is broadcast at path NAME (or its .config's destination_sdp_file without .sdp).
     * Relative to the config file. "" = none. Rescanned on SIGHUP. */
    folder: z.string().default(''),
  })
  .strict();

export const radioSchema = z
  .object({
    /** TCP ports for internet radio (Icecast/SHOUTcast sources in, ICY listeners out; DSS
     * listened on 8000). Sources and listeners are also taken on the RTSP ports. [] = none; 0 =
     * any free port. A port that cannot be bound is logged and skipped. */
    ports: z.array(port).default([8000]),
    /** Addresses the radio ports listen on. */
    bind: z.array(z.string().min(1)).min(1).default(['0.0.0.0', '::']),
    /** The SHOUTcast/Icecast source password (Icecast user `source`, or a SHOUTcast v1 / DSS
     * x-audiocast password line). Users of auth.broadcasterGroup may also publish with their own
     * login. "" = only those users. */
    sourcePassword: z.string().default(''),
    /** The mount SHOUTcast v1 sources feed (their protocol names none) and that
     * `/admin.cgi?mode=updinfo` updates when it names none. */
    shoutcastMount: z.string().regex(/^\/[^?#\s]+$/, 'a path such as /stream').default('/stream'),
    /** Bytes of audio between ICY metadata blocks for listeners that ask for them (`icy-metaint`). */
    metaint: z.number().int().min(256).max(1048576).default(16000),
    /** Bytes of recent audio a new listener gets at once, so playback starts without waiting
     * (Icecast's burst-size); cut to whole frames. 0 = none. */
    burstBytes: z.number().int().min(0).max(16777216).default(65536),
    /** Seconds a listener may fall behind the broadcast before it is dropped (DSS's
     * mp3_max_flow_control_time); the audio queued for it is bounded by this much. */
    maxFlowControlTime: z.number().min(1).max(600).default(10),
    /** Seconds a source may send nothing before it is dropped (Icecast's source-timeout). */
    sourceTimeout: z.number().min(1).max(3600).default(10),
  })
  .strict();

/** Multicast out: live viewers that ask for `RTP/AVP;multicast` share one send per stream to a
 * group from this pool (files are never sent by multicast). Keys: see rivulet.example.yaml. */
export const multicastSchema = z
  .object({
    /** Pool of IPv4 multicast groups, as CIDRs or single addresses: each live stream with
     * multicast viewers takes one. [] = multicast off (such viewers get 461). Default: a /24 of
     * the IPv4 Local Scope (239.255.0.0/16, RFC 2365), which routers keep inside the site. */
    groups: z
      .array(
        z.string().superRefine((g, ctx) => {
          try {
            parseMulticastRange(g);
          } catch (e) {
            ctx.addIssue({ code: 'custom', message: (e as Error).message });
          }
        }),
      )
      .default(['239.255.42.0/24']),
    /** Lowest RTP port given to groups (even; RTCP one above); a stream takes two per track, at
     * a block of its own. Default 5004, RTP's default port (RFC 3551; DSS's
     * destination_base_port), below rtp.portMin so a viewer on the server's host can bind it. */
    portMin: z.number().int().min(1024).max(65534).refine((p) => p % 2 === 0, 'must be even (RTCP takes the odd port above)').default(5004),
    /** Highest port given to groups. */
    portMax: z.number().int().min(1025).max(65535).default(5999),
    /** Router hops a group's packets may cross (IP_MULTICAST_TTL). 1, as DSS's multicast_ttl:
     * the server's own link only, until the operator widens it. */
    ttl: z.number().int().min(1).max(255).default(1),
    /** Seconds a group goes on sending after its last viewer stops, and keeps its address after
     * its last viewer leaves, so a viewer back at once finds it where it was. */
    linger: z.number().min(0).max(600).default(5),
    /** Local IPv4 address to send from, which picks the outgoing interface; "" = the system's
     * route for the group. */
    interface: z.union([z.literal(''), z.ipv4()]).default(''),
  })
  .strict()
  .refine((m) => m.portMax > m.portMin, { message: 'multicast.portMax must be above multicast.portMin', path: ['portMax'] });

/** Playback that survives the network (issue 16): retransmission on request (RFC 4585 generic
 * NACK + RFC 4588 RTX) for UDP viewers that set up with the RTP/AVPF profile, and thinning under
 * loss. Every key is read when a viewer asks for the SDP (DESCRIBE) or sets a track up (SETUP);
 * thinning's when it PLAYs. */
export const retransmitSchema = z
  .object({
    /** Offer retransmission in the SDP (`a=rtcp-fb:* nack`, an `rtx` payload type with `apt=`),
     * take RTP/AVPF in SETUP, and answer the NACKs of the viewers that did with RTX packets. */
    enabled: z.boolean().default(true),
    /** DESCRIBE User-Agent substrings whose SDP names the RTP/AVPF profile on its m= lines, which
     * is how a client learns it may ask for it (GStreamer's rtspsrc then SETUPs with RTP/AVPF and
     * retransmission on); others get the SDP without retransmission (players that know no AVPF,
     * QuickTime and live555, cannot send NACKs). `*` = every client. */
    avpfUserAgents: z.array(z.string().min(1)).default(['GStreamer']),
    /** Milliseconds a sent packet is kept for a NACK (the SDP's rtx-time). */
    historyMs: z.number().int().min(100).max(10000).default(1500),
    /** Bytes of sent packets kept at most per viewer track (the oldest go first). */
    historyBytes: z.number().int().min(16384).max(67108864).default(1048576),
    /** Bytes sent again at most this share (percent) of the bytes the track sent; NACKs past it
     * are refused and counted, so a lossy viewer cannot make the server flood. */
    maxPercent: z.number().min(1).max(100).default(20),
    /** QuickTime's reliable UDP (DSS's Skip Protection): a viewer whose SETUP carries
     * `x-Retransmit: our-retransmit` over UDP has the header echoed, acknowledges what it gets in
     * RTCP APP `qtak` packets, and every packet not acknowledged in time is sent again (same SSRC
     * and sequence number) while younger than historyMs, within a congestion window that also
     * holds back a file viewer's new packets (never a live viewer's). DESCRIBE answers carry
     * `x-Accept-Retransmit: our-retransmit` while it is on. Read at each SETUP. */
    reliableUdp: z
      .object({
        /** DSS's reliable_udp. */
        enabled: z.boolean().default(true),
        /** DSS's reliable_udp_slow_start: the window starts at half its size and grows with the
         * acknowledgements; off, it starts full. */
        slowStart: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Thinning under loss (DSS's QTSSFlowControlModule): a UDP viewer of a video track (a file
     * or a live stream) whose receiver reports show sustained loss is sent less (no
     * non-reference pictures, then keyframes only; audio always), and more again when its loss
     * falls. TCP and multicast viewers are never thinned. Read at each PLAY of a live stream,
     * and at a file session's first PLAY. */
    thinning: z
      .object({
        /** DSS's flow_control_udp_thinning_module_enabled. */
        enabled: z.boolean().default(true),
        /** A report at or above this loss (percent) counts toward thinning. DSS's
         * loss_thin_tolerance was 30; 10 thins a viewer losing a tenth of its packets. */
        thinPercent: z.number().min(1).max(100).default(10),
        /** Reports in a row at or above thinPercent that thin one step (num_losses_to_thin). */
        thinReports: z.number().int().min(1).max(100).default(3),
        /** A report below this loss (percent) counts toward thickening (loss_thick_tolerance). */
        thickenPercent: z.number().min(0).max(100).default(5),
        /** Reports in a row below thickenPercent that thicken one step (num_losses_to_thick). */
        thickenReports: z.number().int().min(1).max(100).default(6),
      })
      .strict()
      .refine((t) => t.thickenPercent <= t.thinPercent, { message: 'retransmit.thinning.thickenPercent must not be above thinPercent', path: ['thickenPercent'] })
      .prefault({}),
  })
  .strict();

export const controlSchema = z
  .object({
    /** Unix socket through which `rivulet playlist start|stop|status` reach the running server;
     * relative to state.folder. "" turns it off. Only users who may open the file may use it. */
    socket: z.string().default('control.sock'),
  })
  .strict();

export const configSchema = z
  .object({
    rtsp: rtspSchema.prefault({}),
    rtp: rtpSchema.prefault({}),
    media: mediaSchema.prefault({}),
    vod: vodSchema.prefault({}),
    live: liveSchema.prefault({}),
    paths: pathsSchema.default({}),
    auth: authSchema.prefault({}),
    tls: tlsSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    log: logSchema.prefault({}),
    logs: logsSchema.prefault({}),
    state: stateSchema.prefault({}),
    playlists: playlistsSchema.prefault({}),
    control: controlSchema.prefault({}),
    radio: radioSchema.prefault({}),
    multicast: multicastSchema.prefault({}),
    retransmit: retransmitSchema.prefault({}),
    relays: relaysSchema.prefault({}),
    admin: adminSchema.prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
