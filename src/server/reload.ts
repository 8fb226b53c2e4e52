/** What a reloaded configuration changes in a running server, key by key: which keys apply at
 * once and which wait for a restart. The rule for each key is where the server reads it: a key
 * read at each use (a request, a new connection, a source starting) applies as soon as the
 * running config holds the new value; one read once at start (ports, sockets, folders the server
 * opened) needs a restart. A key missing from its group's list waits for a restart, the safe
 * side for a key added later. */
import type { Config } from '../config/index.js';

type KeysOf<G> = G extends Record<string, unknown> ? readonly (keyof G & string)[] : never;

/** Per group: `all` of its keys apply at once, or the ones listed. */
type LiveKeys = { [G in keyof Config]: 'all' | KeysOf<Config[G]> };

export const LIVE_KEYS: LiveKeys = {
  // New connections read these when they open (RivuletServer #accept and #connect); ports, bind,
  // the session timeout (the reaper's period) and the Server header (the tunnel broker and the
  // HTTP router copy it) are taken at start.
  rtsp: ['maxHeaderBytes', 'maxBodyBytes', 'maxLineBytes', 'maxHeaderCount'],
  // Read at each viewer's PLAY; the RTP port range is the allocator's, made at start, and the
  // sending thread is chosen at start.
  rtp: ['maxPayloadSize', 'rtcpInterval'],
  media: [],
  // Read at each PLAY (sendAhead, readAhead, maxSpeed; overbufferRate and maxSendAheadTime at a
  // viewer's first PLAY) and each file opened (preferHintTracks); the read cache takes its new
  // size at once (RivuletServer.reload).
  vod: ['sendAhead', 'readAhead', 'preferHintTracks', 'readCacheBytes', 'overbufferRate', 'maxSendAheadTime', 'maxSpeed'],
  // Read per publisher, viewer or source start (the path settings, the registry's timeout
  // check); tcpBatchMs sizes the one write batcher made at start.
  live: ['publishAllow', 'publisherTimeout', 'graceTime', 'takeover', 'writeSdp', 'viewerQueueBytes', 'sdpIdleTimeout', 'keyframeWait', 'maxFrameBytes'],
  // Configured sources follow the section (RivuletServer.reloadSources).
  paths: 'all',
  // The Authorizer reads the running auth object at each request (a new users or groups file is
  // read at its first use); the nonce store and the failure throttle are made at start.
  auth: ['scheme', 'realm', 'usersFile', 'groupsFile', 'accessFileName', 'allowGuestDefault', 'broadcasterGroup'],
  tls: [],
  // Admission reads them at each check (RivuletServer.setLimits), RTSP connections at each
  // request. One use is fixed at start: requestTimeout is also the RTSPS handshake timeout the
  // TLS servers were made with, which keeps its old value there until a restart.
  limits: 'all',
  // pino's level changes on the running logger and its children; the format is the stream's.
  log: ['level'],
  // The log files take them at once (LogFiles.apply).
  logs: 'all',
  state: [],
  // Scanned again at each reload (RivuletServer.reloadSources).
  playlists: 'all',
  control: [],
  // Read at each source login, listener and source packet; the ports and addresses are the
  // listeners' made at start.
  radio: ['sourcePassword', 'shoutcastMount', 'metaint', 'burstBytes', 'maxFlowControlTime', 'sourceTimeout'],
  // Issue 16's sections: each key says when it applies (see their comments).
  // multicast: read when a stream's group is made (the linger when its viewers leave); groups
  // made before keep the address, ports and TTL their viewers were told.
  multicast: 'all',
  // Read at each DESCRIBE and SETUP: a change reaches the next viewer.
  retransmit: 'all',
  // The DSS relay file is read again with the paths; the server's Via name is chosen at start.
  relays: ['dssConfig'],
  // AdminAuth reads them per request (a token removed is refused at once, the group decides at
  // the next request, the timeout at a session's next use); port, bind and TLS are the
  // listeners'.
  admin: ['tokens', 'group', 'sessionTimeout'],
};

/** The keys whose values differ between two configs, dotted: one per key of a group, one per
 * entry of `paths` (`paths.live/cam1`). */
export function changedKeys(running: Config, next: Config): string[] {
  const out: string[] = [];
  for (const group of Object.keys(next) as (keyof Config)[]) {
    const a = running[group] as Record<string, unknown>;
    const b = next[group] as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) out.push(`${group}.${key}`);
    }
  }
  return out;
}

/** Whether a changed dotted key applies without a restart. */
function appliesLive(key: string): boolean {
  const dot = key.indexOf('.');
  const group = key.slice(0, dot) as keyof Config;
  const live = LIVE_KEYS[group] as LiveKeys[keyof Config] | undefined;
  if (live === undefined) return false;
  return live === 'all' || (live as readonly string[]).includes(key.slice(dot + 1));
}

/** The changed keys, split into those that apply at once and those that wait for a restart. */
export function planReload(running: Config, next: Config): { live: string[]; later: string[] } {
  const keys = changedKeys(running, next);
  return { live: keys.filter(appliesLive), later: keys.filter((k) => !appliesLive(k)) };
}

/** The value at a dotted key's place (`['limits', 'maxConnections']`), undefined when absent. */
export function valueAt(tree: unknown, path: readonly string[]): unknown {
  let cur = tree;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}
