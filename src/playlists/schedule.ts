/** When a channel broadcasts: a start and an end, each an absolute time or `*N`, N seconds after
 * the channel was configured (the server's start, or the reload that configured it), as DSS's
 * `broadcast_start_time *N` counted from the broadcaster's start. Absolute times come as DSS
 * wrote them (NTP seconds, `BroadcastTime`) or as the native config does (ISO 8601 with a zone,
 * or the text `*N`). Outside the window the path answers "broadcast not active". */
import { broadcastTimeMs, type BroadcastTime } from './config-file.js';
import { PlaylistError } from './types.js';

/** A start or end as configured: DSS's parsed form, or the native config's text. */
export type ScheduleTime = BroadcastTime | string;

/** Unix ms of the start and end; undefined: at once / never. */
export interface Schedule {
  startMs?: number;
  endMs?: number;
}

/** Unix ms of a start or end, for a channel configured at `configuredAt` (Unix ms). Throws
 * PlaylistError for text that is neither ISO 8601 nor `*N` (the config schema refuses it first). */
export function scheduleTimeMs(t: ScheduleTime, configuredAt: number): number {
  if (typeof t !== 'string') return broadcastTimeMs(t, configuredAt);
  const after = /^\*(\d+)$/.exec(t);
  if (after) return configuredAt + Number(after[1]) * 1000;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new PlaylistError(`'${t}' is neither an ISO 8601 time nor *N`);
  return ms;
}

export function resolveSchedule(times: { start?: ScheduleTime; end?: ScheduleTime }, configuredAt: number): Schedule {
  return {
    startMs: times.start === undefined ? undefined : scheduleTimeMs(times.start, configuredAt),
    endMs: times.end === undefined ? undefined : scheduleTimeMs(times.end, configuredAt),
  };
}

/** Where `now` falls: before the start (it starts at `at`), after the end (it ended at `at`),
 * or inside the window (it ends at `endMs`, if ever). */
export type ScheduleState = { state: 'before'; at: number } | { state: 'after'; at: number } | { state: 'on'; endMs?: number };

export function scheduleState(s: Schedule, now: number): ScheduleState {
  if (s.endMs !== undefined && now >= s.endMs) return { state: 'after', at: s.endMs };
  if (s.startMs !== undefined && now < s.startMs) return { state: 'before', at: s.startMs };
  return { state: 'on', endMs: s.endMs };
}

/** What a viewer is told outside the window: `broadcast not active: starts at <ISO>` or
 * `… ended at <ISO>`. */
export function notActiveMessage(s: Exclude<ScheduleState, { state: 'on' }>): string {
  return `broadcast not active: ${s.state === 'before' ? 'starts' : 'ended'} at ${new Date(s.at).toISOString()}`;
}

/** Whether two configured times are the same setting (so a reload keeps what `*N` counts from). */
export function sameScheduleTime(a: ScheduleTime | undefined, b: ScheduleTime | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
