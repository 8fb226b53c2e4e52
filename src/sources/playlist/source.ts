/** A playlist broadcast as a live channel (`paths.<name>.playlist`): files played one after
 * another into the tracks of one live stream, so every viewer who tunes in sees the same moment,
 * as DSS's PlaylistBroadcaster did, but inside the server.
 *
 * Starting one: its setup is read (`setup.ts`); outside its schedule it refuses with 404
 * "broadcast not active" (before the start, with the start as the time to try again, logged
 * once per configuration); its state file, if a restart left one, gives the item it was playing
 * and its position, the upcoming queue and the random history; the sdp_reference_movie, if any,
 * defines the channel's tracks, else the first item that plays does; then the `Channel` runs it. */
import { mkdir } from 'node:fs/promises';
import type { PathPlaylist } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';
import {
  channelStateFile,
  channelStateFolder,
  Lineup,
  notActiveMessage,
  PlaylistError,
  PlayLog,
  readChannelState,
  resolveSchedule,
  scheduleState,
  type ChannelState,
  type ScheduleState,
} from '../../playlists/index.js';
import type { Stream } from '../../core/stream.js';
import { SourceError } from '../source-error.js';
import { Channel } from './channel.js';
import { openItem } from './item.js';
import type { PlaylistSourceOptions } from './options.js';
import { readSetup } from './setup.js';

export type { PlaylistSourceOptions } from './options.js';

export class PlaylistSourceError extends SourceError {
  override readonly name: string = 'PlaylistSourceError';
}


/** The refusal last logged per path (configuration, and the time named), so a channel waiting
 * for its start says so once per configuration, not at each viewer or retry. */
const refusalsLogged = new Map<string, string>();
const MAX_REFUSALS_LOGGED = 10_000;

function logNotActive(opts: PlaylistSourceOptions, log: Logger, s: Exclude<ScheduleState, { state: 'on' }>, logFile: string | undefined): void {
  const id = `${opts.configuredAt} ${s.state} ${s.at}`;
  if (refusalsLogged.get(opts.key) === id) return;
  refusalsLogged.delete(opts.key);
  if (refusalsLogged.size >= MAX_REFUSALS_LOGGED) refusalsLogged.clear();
  refusalsLogged.set(opts.key, id);
  const at = new Date(s.at).toISOString();
  log.info(s.state === 'before' ? { startsAt: at } : { endedAt: at }, notActiveMessage(s));
  if (logFile) new PlayLog(logFile, (e) => log.warn({ file: logFile, err: e.message }, 'cannot write the playlist log')).info(notActiveMessage(s));
}

/** Reads the playlist, finds the item to start with, publishes the stream and starts the
 * broadcast. Throws PlaylistSourceError: 404 outside the schedule (with `retryAt` before its
 * start) or when nothing plays, 415 when the list or its config cannot be used. */
export async function startPlaylistSource(opts: PlaylistSourceOptions): Promise<Stream> {
  const log = opts.log.child({ path: opts.key });
  const fail = (e: unknown): never => {
    const status = e instanceof PlaylistError ? 415 : 500;
    throw new PlaylistSourceError(`playlist of '${opts.key}': ${(e as Error).message}`, status);
  };
  const read = (playlist: PathPlaylist) =>
    readSetup({ key: opts.key, playlist, mediaRoot: opts.mediaRoot, stateFolder: opts.stateFolder, logFolder: opts.logFolder, log });
  const setup = await read(opts.playlist).catch(fail);

  const when = scheduleState(resolveSchedule(setup.times, opts.configuredAt), Date.now());
  if (when.state !== 'on') {
    logNotActive(opts, log, when, setup.logFile);
    throw new PlaylistSourceError(notActiveMessage(when), 404, when.state === 'before' ? when.at : undefined);
  }

  let reference;
  if (setup.reference !== undefined) {
    const r = await openItem(setup.reference);
    if (typeof r === 'string') throw new PlaylistSourceError(`playlist of '${opts.key}': its sdp_reference_movie ${setup.reference} cannot define the channel: ${r}`, 415);
    reference = r.tracks;
  }

  const stateFile = channelStateFile(opts.stateFolder, opts.key);
  await mkdir(channelStateFolder(opts.stateFolder), { recursive: true }).catch((e: Error) =>
    log.warn({ err: e.message }, 'cannot make the playlist state folder; the channel will not survive a restart'),
  );
  let saved: ChannelState | undefined;
  const found = await readChannelState(stateFile, opts.key);
  if (typeof found === 'string') log.warn({ file: stateFile, reason: found }, 'playlist state file ignored; the channel starts from the top');
  else saved = found;

  const lineupOf = (state?: ChannelState['lineup']) =>
    new Lineup({ list: setup.list, size: setup.maxUpcoming, random: opts.random, state });
  let lineup: Lineup | undefined;
  if (saved) {
    try {
      lineup = lineupOf(saved.lineup);
    } catch (e) {
      log.warn({ file: stateFile, reason: (e as Error).message }, 'playlist state file ignored; the channel starts from the top');
      saved = undefined;
    }
  }
  try {
    lineup ??= lineupOf();
  } catch (e) {
    fail(e);
  }

  const channel = new Channel({
    key: opts.key,
    playlist: opts.playlist,
    registry: opts.registry,
    log,
    idleTimeout: opts.idleTimeout,
    graceTime: opts.graceTime,
    maxFrameBytes: opts.maxFrameBytes,
    sendAhead: opts.sendAhead,
    setup,
    lineup: lineup!,
    configuredAt: opts.configuredAt,
    stateFile,
    reference,
    readSetup: read,
  });
  const first = await channel.first(saved?.current ?? undefined);
  if ('end' in first) throw new PlaylistSourceError(`playlist of '${opts.key}': nothing in it plays (broadcast not active)`, 404);
  return channel.start(first);
}
