/** How each protocol-neutral kind of configured source starts: `paths.<name>.source:
 * <scheme>:<target>` looks its scheme up here. The composition root joins this table with the
 * relays' (`rtsp://`, `rtsps://`: src/relays) and hands the whole to the PathManager, whose type
 * holds it to config's SOURCE_FORMS: a new kind is one entry here (or there) and its form there,
 * and no protocol code changes. */
import { resolve } from 'node:path';
import type { SourceStart, SourceStarters } from '../core/path-manager.js';
import { startPlaylistSource } from './playlist/index.js';
import type { FeedBase } from './rtp-feed.js';
import { startSdpSource } from './sdp-file-source.js';
import { startUdpSource } from './udp-source.js';

/** What every source fed over RTP/UDP takes from its start. */
function feedBase(o: SourceStart): FeedBase {
  return {
    key: o.key,
    registry: o.registry,
    log: o.log,
    idleTimeout: o.idleTimeout,
    graceTime: o.graceTime,
    maxFrameBytes: o.maxFrameBytes,
  };
}

/** `sdp:<file>`: an SDP file describing an RTP/UDP feed; a relative file is read from the media
 * folder. */
function startSdp(o: SourceStart) {
  return startSdpSource({ ...feedBase(o), file: resolve(o.mediaRoot, o.target) });
}

/** `udp://…` with `paths.<name>.sdp`: RTP arriving at a port, unicast or multicast. */
function startUdp(o: SourceStart) {
  return startUdpSource({ ...feedBase(o), url: o.target, sdp: o.entry?.sdp, mediaRoot: o.mediaRoot });
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

/** The kinds of source this layer starts; the relays' complete the table (SourceStarters). */
export const SOURCE_STARTERS = {
  sdp: startSdp,
  udp: startUdp,
  playlist: startPlaylist,
} satisfies Partial<SourceStarters>;
