/** The core's typed events: what logs, metrics and the REST API subscribe to, whatever protocol
 * the source or reader speaks. One `CoreEvents` per server, created by the composition root and
 * handed to the registry, the path manager and the protocol adapters. Listeners must not throw:
 * an emitter calls them synchronously on the hot path of whoever emits. */
import { EventEmitter } from 'node:events';
import type { ClientRecord } from './clients.js';
import type { Reader } from './reader.js';

/** Who a source or reader is, as events carry it (never the object itself, so a listener keeps
 * nothing alive). */
export interface PartyInfo {
  kind: string;
  label: string;
}

/** Where a relay leg stands. */
export type RelayState = 'connecting' | 'playing' | 'retrying' | 'stopped';

/** One leg of a relay: a pulled source, or a push or forward destination of a path. */
export interface RelayStatus {
  path: string;
  /** `source` (pulled into the path), `push` or `forward` (sent on from it). */
  role: 'source' | 'push' | 'forward';
  /** The far end, never with a password (`rtsp://origin/live/cam`, `udp://239.1.1.1:5000`). */
  target: string;
  state: RelayState;
  /** Unix ms of the next attempt while retrying. */
  nextAttemptAt?: number;
  /** Attempts that failed or dropped since the leg was configured. */
  reconnects: number;
  lastError?: string;
  bytesIn: number;
  bytesOut: number;
  /** RTP packets missing by sequence number (pulled) or reported lost by the far end. */
  packetsLost: number;
  /** Measured over the last few seconds. */
  bitrateKbps: number;
}

export interface CoreEventMap {
  /** A source started feeding a path (first time, or back within the grace time). */
  'path.published': [{ path: string; source: PartyInfo; tracks: string[]; resumed: boolean }];
  /** A stream ended for good: its source left and did not return, or it was replaced. */
  'path.unpublished': [{ path: string; reason: string; durationMs: number }];
  /** A reader began taking from a path (a file or a stream). */
  'reader.added': [{ path: string; reader: PartyInfo }];
  /** A reader stopped, with what it took. */
  'reader.removed': [{ path: string; reader: PartyInfo; reason: string; bytes: number; packets: number; durationMs: number }];
  /** A session or request refused by a limit or a rule, with the reason the client was given. */
  'session.refused': [{ protocol: string; client: string; path?: string; status: number; reason: string }];
  /** A wrong or missing password for a protected path. */
  'auth.failed': [{ protocol: string; client: string; path: string; user?: string; reason: string }];
  /** A relay leg changed state (connecting, playing, retrying, stopped), with its figures. */
  'relay.state': [RelayStatus];
  /** A client session ended (or was refused with 401/403): one line of the access log. */
  'client.ended': [ClientRecord];
}

export class CoreEvents extends EventEmitter<CoreEventMap> {}

/** 'reader.added': `r` began reading `path`. */
export function readerAdded(path: string, r: Reader): CoreEventMap['reader.added'][0] {
  return { path, reader: { kind: r.protocol, label: r.label } };
}

/** 'reader.removed': `r` stopped reading `path`, with what it took. */
export function readerRemoved(path: string, r: Reader, reason: string): CoreEventMap['reader.removed'][0] {
  const st = r.stats();
  return { path, reader: { kind: r.protocol, label: r.label }, reason, bytes: st.bytes, packets: st.packets, durationMs: Date.now() - st.since };
}
