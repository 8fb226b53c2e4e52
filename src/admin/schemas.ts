/** JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses) of what the admin API answers. Objects
 * allow no other properties: a field added to an answer without its schema makes the OpenAPI
 * test fail, so the document keeps saying exactly what is served. */
import { z } from 'zod';
import { configSchema } from '../config/schema.js';
import type { JsonSchema } from '../http/index.js';

const int = { type: 'integer', minimum: 0 } as const;
const num = { type: 'number', minimum: 0 } as const;
const str = { type: 'string' } as const;
const time = { type: 'string', format: 'date-time' } as const;

/** An object with these properties, all required but `optional`. */
export function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
  return {
    type: 'object',
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
    additionalProperties: false,
  };
}

/** `{ <key>: [item, ...] }`. */
export const listOf = (key: string, items: JsonSchema): JsonSchema =>
  object({ [key]: { type: 'array', items } });

export const LINES_SCHEMA = listOf('lines', str);

export const SESSION_SCHEMA = object({ user: str, csrfToken: str });

export const SERVER_SCHEMA = object({
  name: { const: 'Rivulet' },
  version: str,
  status: { const: 'running' },
  startedAt: time,
  now: time,
  uptimeSeconds: int,
  cpuLoadPercent: {
    type: 'number',
    minimum: 0,
    maximum: 100,
    description: "The server process's share of all the machine's CPUs over the last second or more.",
  },
  connections: int,
  throughputKbps: num,
  totalBytesServed: int,
  totalConnections: int,
  hostname: str,
  ports: object({
    rtsp: { type: 'array', items: int },
    http: { type: 'array', items: int },
    tls: { type: 'array', items: int },
    admin: int,
  }),
});

export const PATH_SCHEMA = object(
  {
    path: str,
    live: { type: 'boolean', description: 'A stream is live there now.' },
    source: {
      oneOf: [object({ kind: str, label: str }), { type: 'null' }],
      description: 'What feeds it: the live source, else the configured one.',
    },
    state: {
      enum: ['running', 'stopped', 'waiting', 'idle'],
      description: 'A configured source: where it stands.',
    },
    tracks: { type: 'array', items: object({ id: int, media: str, codec: str }) },
    readers: int,
    multicast: {
      ...object({ address: str, port: int, ttl: int, viewers: int, sending: { type: 'boolean' }, packets: int }),
      description: "The live stream's multicast group while it has viewers over multicast (or lingers after the last): its address, first port (RTP; two per track), TTL, viewers in it, whether it is sending, and the RTP packets it has sent.",
    },
  },
  ['state', 'multicast'],
);

export const CLIENT_ROW_SCHEMA = object(
  {
    id: str,
    kind: { enum: ['rtsp-file', 'rtsp-live', 'publisher', 'http-tunnel', 'relay', 'icy', 'http'] },
    protocol: str,
    address: str,
    url: str,
    path: str,
    transport: str,
    userAgent: str,
    user: str,
    startedAt: { type: 'integer', description: 'Unix ms.' },
    bytesSent: int,
    packetsSent: int,
    bytesReceived: int,
    packetsLost: int,
    packetsResent: { ...int, description: 'Packets sent again at its request (RTX or reliable UDP); only for a client that asked for retransmission.' },
    bitrateKbps: num,
    lossPercent: { type: 'number', minimum: 0, maximum: 100 },
  },
  ['userAgent', 'user', 'packetsResent'],
);

export const SESSIONS_SCHEMA = object({
  sessions: { type: 'array', items: CLIENT_ROW_SCHEMA },
  total: { type: 'integer', minimum: 0, description: 'Clients matching `q`, on every page.' },
});

export const RELAY_SCHEMA = object(
  {
    key: { type: 'string', description: '`role path target`.' },
    path: str,
    role: { enum: ['source', 'push', 'forward'] },
    target: str,
    state: { enum: ['connecting', 'playing', 'retrying', 'stopped'] },
    nextAttemptAt: { type: 'integer', description: 'Unix ms.' },
    reconnects: int,
    lastError: str,
    bytesIn: int,
    bytesOut: int,
    packetsLost: int,
    bitrateKbps: num,
  },
  ['nextAttemptAt', 'lastError'],
);

export const MEDIA_SCHEMA = object(
  { files: { type: 'array', items: object({ path: str, size: int }) }, truncated: { type: 'boolean' } },
  ['truncated'],
);

export const ACCESS_HISTORY_SCHEMA = object({
  since: time,
  files: { type: 'array', items: object({ path: str, count: int }) },
});

export const CONFIG_UPDATE_SCHEMA = object(
  {
    applied: { type: 'array', items: str },
    later: { type: 'array', items: str },
    saved: { type: 'boolean' },
    file: str,
    note: str,
  },
  ['file', 'note'],
);

/** The body of PUT /playlists/{name}: `paths.<name>.playlist` as the config writes it. */
export const PLAYLIST_BODY_SCHEMA = object(
  {
    items: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          { type: 'string', minLength: 1 },
          object(
            { file: { type: 'string', minLength: 1 }, weight: { type: 'number', exclusiveMinimum: 0 } },
            ['weight'],
          ),
        ],
      },
    },
    mode: { enum: ['sequential', 'sequential_looped', 'weighted_random'] },
    recent: int,
    start: { type: 'string', description: 'ISO 8601 with its zone, or `*N` (N seconds after the start).' },
    end: str,
    autostart: { type: 'boolean' },
  },
  ['mode', 'recent', 'start', 'end', 'autostart'],
);

/** The running configuration's schema, from the zod schema the config is checked with (what
 * JSON Schema cannot say, a transform, is left open). */
export function configJsonSchema(): JsonSchema {
  const { $schema: _drop, ...schema } = z.toJSONSchema(configSchema, {
    io: 'output',
    unrepresentable: 'any',
  }) as JsonSchema;
  return schema;
}
