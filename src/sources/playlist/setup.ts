/** A channel's setup as its configuration says it: from a DSS `.playlist` and the `.config` of
 * the same base name beside it, or from the list written in the config. Read as the channel
 * starts and again on reload. */
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { PathPlaylist } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';
import {
  channelFileBase,
  channelStateFolder,
  controlPaths,
  DEFAULT_WEIGHT,
  formatIssue,
  listSignature,
  playLogFile,
  playLogName,
  PlaylistError,
  PlaylistPicker,
  readPlaylist,
  readPlaylistConfig,
  type ControlPaths,
  type LineupList,
  type PickerItem,
  type PlayMode,
  type ScheduleTime,
} from '../../playlists/index.js';

/** A native playlist's `max_upcoming_list_size` (DSS's default). */
export const NATIVE_UPCOMING = 7;

export interface SetupInput {
  key: string;
  playlist: PathPlaylist;
  /** Real path of the media folder: relative items and `.playlist` files are read from it. */
  mediaRoot: string;
  stateFolder: string;
  log: Logger;
}

export interface ChannelSetup {
  /** The list for logs: the `.playlist` file, or `list` for one written in the config. */
  name: string;
  list: LineupList;
  /** Picks drawn ahead and shown in `.upcoming`. */
  maxUpcoming: number;
  times: { start?: ScheduleTime; end?: ScheduleTime };
  /** `.current`, `.upcoming` and the control files. */
  control: ControlPaths;
  /** The folder relative entries of control files are read from (undefined: their own). */
  controlRoot?: string;
  /** The per-channel play log's file name in logs.folder (the folder is read at each write: it
   * may change while the channel runs); undefined when `logging disabled`. */
  logName?: string;
  /** sdp_reference_movie: the movie whose tracks define the channel. */
  reference?: string;
  /** broadcast_name. */
  title?: string;
}

/** Throws PlaylistError when the list or its config cannot be used. */
export async function readSetup(input: SetupInput): Promise<ChannelSetup> {
  const p = input.playlist;
  if (typeof p !== 'string') {
    const items = p.items.map((i) =>
      typeof i === 'string' ? { file: resolve(input.mediaRoot, i), weight: DEFAULT_WEIGHT } : { file: resolve(input.mediaRoot, i.file), weight: i.weight },
    );
    const base = channelFileBase(input.key);
    return {
      name: 'list',
      list: checkedList(items, p.mode, p.recent),
      maxUpcoming: NATIVE_UPCOMING,
      times: { start: p.start, end: p.end },
      control: controlPaths(channelStateFolder(input.stateFolder), base),
      controlRoot: input.mediaRoot,
      logName: playLogName(input.key),
    };
  }
  const file = resolve(input.mediaRoot, p);
  const base = basename(file, extname(file));
  const configFile = join(dirname(file), `${base}.config`);
  // Named after the path, not the file: two folders may each hold a news.playlist.
  const logName = playLogName(input.key);
  const setup: ChannelSetup = {
    name: file,
    list: { items: [], mode: 'sequential_looped', recent: 0, signature: '' },
    maxUpcoming: NATIVE_UPCOMING,
    times: {},
    control: controlPaths(dirname(file), base),
    logName,
  };
  let mode: PlayMode = 'sequential_looped';
  let recent = 0;
  if (await isFile(configFile)) {
    const parsed = await readPlaylistConfig(configFile);
    if (parsed.errors.length) throw new PlaylistError(parsed.errors.map(formatIssue).join('; '));
    for (const w of parsed.warnings) input.log.info(formatIssue(w));
    const c = parsed.config;
    mode = c.playMode;
    recent = c.recent;
    setup.maxUpcoming = c.maxUpcoming;
    setup.times = { start: c.start, end: c.end };
    // DSS wrote the log where log_file said; here every log is in the server's log folder, under
    // that file's name when it gives one.
    setup.logName = c.logging ? (c.logFile === undefined ? logName : playLogFile(basename(c.logFile))) : undefined;
    setup.reference = c.sdpReferenceMovie;
    setup.title = c.broadcastName;
  }
  const list = await readPlaylist(file);
  for (const i of list.issues) input.log.warn(formatIssue(i));
  setup.list = checkedList(
    list.entries.map((e) => ({ file: e.file, weight: e.weight })),
    mode,
    recent,
  );
  return setup;
}

/** The list with its signature, refused (PlaylistError) when the picker could not play it: no
 * items, or a no-repeat window not smaller than the number of files. */
function checkedList(items: PickerItem[], mode: PlayMode, recent: number): LineupList {
  new PlaylistPicker({ items, mode, recent });
  return { items, mode, recent, signature: listSignature({ items, mode, recent }) };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new PlaylistError(`cannot read ${file}: ${(e as Error).message}`);
  }
}
