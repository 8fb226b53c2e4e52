/** The relay keys of the configuration (issue 12): a path's destinations (`push`, `forward`),
 * its source's SDP, retry backoff and timeouts, and the `relays:` group. What they mean to the
 * relay runtime is said beside each key; the checks that need several keys of one path (a
 * `udp://` source needs `sdp`, a timeout needs an on-demand source…) are in `pathsSchema`. */
import { z } from 'zod';
import { badForward, parsePushUrl, parseUdpForward, redactUrl, type UdpForward } from './relay-urls.js';

/** The relay defaults, in one place: what a key left out means. */
export const RELAY_DEFAULTS = {
  /** `sourceTransport` and a push's `transport`: RTP interleaved on the RTSP connection, which
   * crosses NAT and firewalls and loses nothing. */
  transport: 'tcp',
  /** `sourceDescribeTimeout`: seconds a first viewer's DESCRIBE waits for an on-demand source. */
  describeTimeout: 10,
  /** `sourceRetry` and a push's `retry`: seconds before the first new attempt, doubling up to max. */
  retry: { min: 1, max: 30 },
} as const;

/** Most destinations of each kind one path may have. */
export const MAX_DESTINATIONS = 32;
/** Longest inline SDP, characters. */
export const MAX_INLINE_SDP = 65536;

const transport = z.enum(['tcp', 'udp']);

/** `{ min, max }` seconds between attempts: the first wait is min, each failure doubles it, never
 * beyond max; a success starts again from min. */
export const retrySchema = z
  .object({
    min: z.number().min(0.1).max(3600).default(RELAY_DEFAULTS.retry.min),
    max: z.number().min(0.1).max(3600).default(RELAY_DEFAULTS.retry.max),
  })
  .strict()
  .refine((r) => r.max >= r.min, { message: 'max must not be below min', path: ['max'] });

export type Retry = z.infer<typeof retrySchema>;

/** One push destination, as the runtime reads it. */
export interface PushDestination {
  /** `rtsp://[user:password@]host[:port]/path`, `rtsps://…` (announced with ANNOUNCE/RECORD) or
   * `icecast://user:password@host[:port]/mount` (fed to an Icecast 2 mount), as written. */
  url: string;
  /** How RTSP carries the RTP; an icecast:// push is always `tcp`. */
  transport: 'tcp' | 'udp';
  retry: Retry;
}

/** `v` read by the object form `schema`, or undefined with its issues reported at their keys
 * (`unknown key 'x'` for extra keys). */
function objectForm<T>(schema: z.ZodType<T>, v: unknown, ctx: z.RefinementCtx): T | undefined {
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  for (const i of r.error.issues) {
    const message = i.code === 'unrecognized_keys' ? `unknown key ${i.keys.map((k) => `'${k}'`).join(', ')}` : i.message;
    ctx.addIssue({ code: 'custom', path: i.path, message });
  }
  return undefined;
}

/** Whether `v` is a mapping (not a list, not null). */
function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A list of destinations, at most MAX_DESTINATIONS, none twice (`key` tells them apart). */
function destinationList<T>(item: z.ZodType<T>, key: (d: T) => string, again: (d: T) => string) {
  return z
    .array(item)
    .max(MAX_DESTINATIONS)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((d, i) => {
        if (seen.has(key(d))) ctx.addIssue({ code: 'custom', path: [i], message: again(d) });
        seen.add(key(d));
      });
    });
}

const pushObject = z.object({ url: z.string(), transport: transport.default(RELAY_DEFAULTS.transport), retry: retrySchema.prefault({}) }).strict();

/** A push destination: a URL, or `{ url, transport, retry }`. Told apart by type first, so a
 * mistake is reported at its key rather than as a union neither side of which matched. */
const pushItem = z.unknown().transform((v, ctx): PushDestination => {
  const item = typeof v === 'string' ? { url: v, transport: RELAY_DEFAULTS.transport, retry: { ...RELAY_DEFAULTS.retry } } : isMapping(v) ? objectForm(pushObject, v, ctx) : undefined;
  if (item === undefined) {
    if (!isMapping(v)) ctx.addIssue({ code: 'custom', message: 'expected rtsp://[user:password@]host[:port]/path, icecast://user:password@host[:port]/mount or { url, transport, retry }' });
    return z.NEVER;
  }
  const parsed = parsePushUrl(item.url);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', path: typeof v === 'string' ? [] : ['url'], message: `${parsed} (got '${redactUrl(item.url)}')` });
    return z.NEVER;
  }
  // Only the default can be here for a string; a mapping that asks for UDP asked for it.
  if (parsed.scheme === 'icecast' && item.transport === 'udp') {
    ctx.addIssue({ code: 'custom', path: ['transport'], message: 'an icecast:// destination is fed over TCP only' });
    return z.NEVER;
  }
  return item;
});

/** `paths.<name>.push`: while the path is live its stream is announced (ANNOUNCE/SETUP/RECORD) to
 * each rtsp:// server, and its first audio track (MP3, AAC or Opus) is fed to each icecast://
 * mount as that mount's source; each retried with backoff when the far end drops or refuses. */
export const pushSchema = destinationList(
  pushItem,
  (p) => p.url,
  (p) => `pushes to '${redactUrl(p.url)}' a second time`,
);

const forwardObject = z
  .object({ host: z.string(), port: z.number(), ttl: z.number().optional(), iface: z.string().optional() })
  .strict();

/** A forward destination: `udp://host:port[?ttl=N&iface=ADDR]` or `{ host, port, ttl, iface }`. */
const forwardItem = z.unknown().transform((v, ctx): UdpForward => {
  if (typeof v === 'string') {
    const f = parseUdpForward(v);
    if (typeof f !== 'string') return f;
    ctx.addIssue({ code: 'custom', message: `${f} (got '${v.slice(0, 200)}')` });
    return z.NEVER;
  }
  if (!isMapping(v)) {
    ctx.addIssue({ code: 'custom', message: 'expected udp://host:port[?ttl=N&iface=ADDR] or { host, port, ttl, iface }' });
    return z.NEVER;
  }
  const f = objectForm(forwardObject, v, ctx);
  const bad = f && badForward(f);
  if (bad) ctx.addIssue({ code: 'custom', path: [bad.field], message: bad.message });
  if (!f || bad) return z.NEVER;
  const { host, port, ttl, iface } = f;
  return { host, port, ...(ttl === undefined ? {} : { ttl }), ...(iface === undefined ? {} : { iface }) };
});

/** `paths.<name>.forward`: the path's RTP (and RTCP, one port up) is sent to each of these, track
 * N of the stream to port + 2N, unicast or multicast, while the stream is live. */
export const forwardSchema = destinationList(
  forwardItem,
  (f) => `${f.host.toLowerCase()}:${f.port}`,
  (f) => `forwards to ${f.host} port ${f.port} a second time`,
);

/** The SDP a `paths.<name>.sdp` value gives: inline text (it starts with a `v=0` line), or a file
 * (relative to media.dir). */
export type SdpSetting = { text: string } | { file: string };

/** Tells inline SDP from a file name: text whose first line is `v=0` is SDP. */
export function sdpSetting(value: string): SdpSetting {
  return /^\s*v=0\s*(\r?\n|$)/.test(value) && /\r?\n/.test(value.trim()) ? { text: value } : { file: value };
}

/** The ports the m= lines of inline SDP give, in order. */
export function sdpMediaPorts(text: string): number[] {
  return [...text.matchAll(/^m=\S+\s+(\d+)/gm)].map((m) => Number(m[1]));
}

/** `paths.<name>.sdp`: what the RTP of a `udp://` source carries. */
export const sdpSchema = z.string().superRefine((v, ctx) => {
  const s = sdpSetting(v);
  if ('file' in s) {
    if (v.trim() === '') ctx.addIssue({ code: 'custom', message: 'expected an SDP file (relative to media.dir) or inline SDP starting with v=0' });
    else if (v.includes('\0') || /\r|\n/.test(v)) ctx.addIssue({ code: 'custom', message: 'expected a file name, or inline SDP whose first line is v=0' });
    return;
  }
  if (v.length > MAX_INLINE_SDP) ctx.addIssue({ code: 'custom', message: `inline SDP is longer than ${MAX_INLINE_SDP} characters` });
  else if (sdpMediaPorts(v).length === 0) ctx.addIssue({ code: 'custom', message: 'inline SDP needs an m= line for each track' });
});

/** Settings of all relays. */
export const relaysSchema = z
  .object({
    /** A DSS `relayconfig.xml` whose relays run as `paths:` entries would (src/relays/dss-config.ts);
     * relative to the config file. "" = none. A `paths:` entry of the same name wins. */
    dssConfig: z.string().default(''),
    /** This server's name in the hop header it adds to its relay requests, by which a chain of
     * servers that loops back is refused. "" = the host name and a random suffix, new at each
     * start. Give each server its own. */
    serverId: z
      .string()
      .regex(/^([A-Za-z0-9._-]{1,64})?$/, 'up to 64 letters, digits, dots, dashes or underscores')
      .default(''),
  })
  .strict();
