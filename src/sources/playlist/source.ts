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
import { dirname, isAbsolute, relative } from 'node:path';
import type { PathPlaylist } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';
import {
  channelStateFile,
  channelStateFolder,
  keepAllowedFiles,
  Lineup,
  notActiveMessage,
  PlaylistError,
  readChannelState,
  resolveSchedule,
  scheduleState,
  type ChannelState,
  type ScheduleState,
} from '../../playlists/index.js';
import type { Stream } from '../../core/stream.js';
import { SourceError } from '../source-error.js';
import { Channel, openPlayLog, SCHEDULED_END } from './channel.js';
import { openItem } from './item.js';
import { OncePerConfiguration } from './once.js';
import type { PlaylistSourceOptions } from './options.js';
import { readSetup, type ChannelSetup } from './setup.js';

export type { PlaylistSourceOptions } from './options.js';

export class PlaylistSourceError extends SourceError {
  override readonly name: string = 'PlaylistSourceError';
  constructor(
    message: string,
    status: number,
    retryAt?: number,
    /** Set when starting it again would be refused alike until its config changes (past its
     * scheduled end), as Source.finished for a channel that ended so. */
    readonly finished?: string,
  ) {
    super(message, status, retryAt);
  }
}

/** Refusals logged, so a channel waiting for its start says so once per configuration, not at
 * each viewer or retry. */
const refusalsTold = new OncePerConfiguration();

function logNotActive(opts: PlaylistSourceOptions, log: Logger, s: Exclude<ScheduleState, { state: 'on' }>, logName: string | undefined): void {
  if (!refusalsTold.first(opts.key, opts.configuredAt, `${s.state} ${s.at}`)) return;
  const at = new Date(s.at).toISOString();
  log.info(s.state === 'before' ? { startsAt: at } : { endedAt: at }, notActiveMessage(s));
  openPlayLog(opts.logFolder, logName, log)?.info(notActiveMessage(s));
}

/** Whether a file a state file names may play: one of the list, or one under the media folder
 * or the DSS playlist's own folder (where its control files' relative entries are read from). */
function allowedBy(opts: PlaylistSourceOptions, setup: ChannelSetup): (file: string) => boolean {
  const listed = new Set(setup.list.items.map((i) => i.file));
  const roots = typeof opts.playlist === 'string' ? [opts.mediaRoot, dirname(setup.name)] : [opts.mediaRoot];
  const under = (file: string, root: string) => {
    const rel = relative(root, file);
    return rel !== '' && rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel);
  };
  return (file) => listed.has(file) || (isAbsolute(file) && roots.some((r) => under(file, r)));
}

/** Reads the playlist, finds the item to start with, publishes the stream and starts the
 * broadcast. Throws PlaylistSourceError: 404 outside the schedule (with `retryAt` before its
 * start, `finished` after its end) or when nothing plays, 415 when the list or its config
 * cannot be used. */
export async function startPlaylistSource(opts: PlaylistSourceOptions): Promise<Stream> {
  const log = opts.log.child({ path: opts.key });
  const fail = (e: unknown): never => {
    const status = e instanceof PlaylistError ? 415 : 500;
    throw new PlaylistSourceError(`playlist of '${opts.key}': ${(e as Error).message}`, status);
  };
  const read = (playlist: PathPlaylist) =>
    readSetup({ key: opts.key, playlist, mediaRoot: opts.mediaRoot, stateFolder: opts.stateFolder, log });
  const setup = await read(opts.playlist).catch(fail);

  const when = scheduleState(resolveSchedule(setup.times, opts.configuredAt), Date.now());
  if (when.state !== 'on') {
    logNotActive(opts, log, when, setup.logName);
    if (when.state === 'before') throw new PlaylistSourceError(notActiveMessage(when), 404, when.at);
    throw new PlaylistSourceError(notActiveMessage(when), 404, undefined, SCHEDULED_END.finished);
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
  else if (found) {
    const { state, dropped } = keepAllowedFiles(found, allowedBy(opts, setup));
    if (dropped.length) {
      log.warn({ file: stateFile, dropped: dropped.slice(0, 10), count: dropped.length }, "files named in the playlist state file dropped: outside the media folder and the playlist's folder, and not in its list");
    }
    saved = state;
  }

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
    readCache: opts.readCache,
    setup,
    lineup: lineup!,
    configuredAt: opts.configuredAt,
    logFolder: opts.logFolder,
    stateFile,
    reference,
    readSetup: read,
  });
  const first = await channel.first(saved?.current ?? undefined);
  if ('end' in first) throw new PlaylistSourceError(`playlist of '${opts.key}': nothing in it plays (broadcast not active)`, 404);
  return channel.start(first);
}
