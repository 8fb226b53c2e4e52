/** How each kind of configured source starts: `paths.<name>.source: <scheme>:<target>` looks its
 * scheme up here. The composition root hands this table to the PathManager, so a new kind (relay
 * pull `rtsp://…`, `playlist:`) is one entry here and its form in config's SOURCE_FORMS (the type
 * below refuses one without the other), and no protocol code changes. */
import { resolve } from 'node:path';
import type { SourceStart, SourceStarters } from '../core/path-manager.js';
import { startPlaylistSource } from './playlist/index.js';
import { startSdpSource } from './sdp-file-source.js';

/** `sdp:<file>`: an SDP file describing an RTP/UDP feed; a relative file is read from the media
 * folder. */
function startSdp(o: SourceStart) {
  return startSdpSource({
    key: o.key,
    file: resolve(o.mediaRoot, o.target),
    registry: o.registry,
    log: o.log,
    idleTimeout: o.idleTimeout,
    graceTime: o.graceTime,
    maxFrameBytes: o.maxFrameBytes,
  });
}

/** `paths.<name>.playlist`: files broadcast one after another as a live channel. */
function startPlaylist(o: SourceStart) {
  if (o.playlist === undefined) throw new Error(`no playlist configured at '${o.key}'`);
  return startPlaylistSource({
    key: o.key,
    playlist: o.playlist,
    mediaRoot: o.mediaRoot,
    registry: o.registry,
    log: o.log,
    idleTimeout: o.idleTimeout,
    graceTime: o.graceTime,
    maxFrameBytes: o.maxFrameBytes,
    configuredAt: o.configuredAt,
    stateFolder: o.stateFolder,
    logFolder: o.logFolder,
  });
}

export const SOURCE_STARTERS: SourceStarters = { sdp: startSdp, playlist: startPlaylist };
