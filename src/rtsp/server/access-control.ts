/** The one authorization step before an RTSP method runs: which access a request needs (READ to
 * play: DESCRIBE, SETUP, PLAY; WRITE to broadcast: ANNOUNCE, SETUP mode=record, RECORD) on which
 * path, and the 401/403 answer when the Authorizer says no. Methods that only act on a session
 * the client already holds (PAUSE, TEARDOWN, GET/SET_PARAMETER) and OPTIONS need no login: the
 * session was authorized when it was set up, and its id is unguessable. */
import { relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Authorizer, parseAuthorization, type Access, type AccessRequest } from '../../auth/index.js';
import type { Config } from '../../config/index.js';
import { settingName, type CoreEventMap, type CoreEvents, type PathManager } from '../../core/index.js';
import { streamKey } from '../../core/stream-registry.js';
import type { Logger } from '../../logging/index.js';
import { parseRequestUrl } from '../../vod/resolve-path.js';
import { Headers, type RtspRequest, type RtspResponse } from '../message/types.js';
import type { RtspConnection } from './connection.js';
import type { RtspSession } from './session.js';
import type { Login, Refusal } from './session-clients.js';
import { wantsRecord } from './transport-setup.js';
import { sessionIdOf } from '../headers/index.js';

export interface AccessControlDeps {
  config: Config;
  /** Real path of the media folder. */
  mediaRoot: string;
  sessions: Map<string, RtspSession>;
  /** Per-path settings: who may publish where without a login. */
  paths: PathManager;
  log: Logger;
  /** Where refusals are reported as 'auth.failed' (none in unit tests). */
  events?: CoreEvents;
}

/** What the access check says: go ahead (as whom), or the response to send instead and why. */
export type AccessOutcome = ({ refused?: undefined } & Login) | { refused: RtspResponse; refusal: Refusal };

/** The 'auth.failed' event for a request the Authorizer refused (401 or 403), naming the user the
 * client's credentials claim when they can be read. */
export function authFailedEvent(protocol: string, r: AccessRequest, reason: string): CoreEventMap['auth.failed'][0] {
  let user: string | undefined;
  try {
    const c = r.authorization ? parseAuthorization(r.authorization) : undefined;
    if (c && c.scheme !== 'other') user = c.user.slice(0, 64);
  } catch {
    // Malformed credentials name nobody; the reason says what was wrong with them.
  }
  return { protocol, client: r.address, path: r.segments.join('/'), user, reason };
}

/** The stream a first SETUP for recording names: its URL is the announced stream's or one of
 * its tracks' (`live/cam1/stream=0`; parseRequestUrl strips only trackID/streamid/track=N),
 * found as LiveMethods.setupRecord finds it, so the stream's path settings and access file
 * decide, as they do for its ANNOUNCE and RECORD. */
function announced(segments: string[], conn: RtspConnection): string[] {
  for (const candidate of [segments, segments.slice(0, -1)]) {
    const key = streamKey(candidate);
    if (key !== '' && conn.announcements.has(key)) return key.split('/');
  }
  return segments;
}

export class RtspAccessControl {
  readonly #d: AccessControlDeps;
  readonly authorizer: Authorizer;

  constructor(deps: AccessControlDeps) {
    this.#d = deps;
    this.authorizer = new Authorizer({
      // Through the config object at each request: a reload may change auth.scheme and
      // auth.realm, or replace the whole section.
      auth: () => deps.config.auth,
      publishAllow: (segments) => {
        const s = deps.paths.settingsFor(streamKey(segments));
        return { addresses: s.publishAllow, setting: settingName(s, 'publishAllow') };
      },
      mediaRoot: deps.mediaRoot,
      log: deps.log,
    });
  }

  /** What the request needs, or undefined when it needs no authorization. */
  #needs(req: RtspRequest, conn: RtspConnection): { access: Access; segments: string[] } | undefined {
    const sid = sessionIdOf(req.headers);
    const session = sid ? this.#d.sessions.get(sid) : undefined;
    const fromUrl = () => parseRequestUrl(req.uri).segments;
    const fromSession = (s: RtspSession) => {
      if (s.kind === 'vod') return relative(this.#d.mediaRoot, s.vod.filePath).split(sep);
      return s.liveKey.split('/').filter((x) => x !== '');
    };
    switch (req.method) {
      case 'DESCRIBE':
        return { access: 'read', segments: fromUrl() };
      case 'ANNOUNCE':
        return { access: 'write', segments: fromUrl() };
      case 'SETUP': {
        const record = session ? session.kind === 'record' : wantsRecord(req.headers.get('transport'));
        const segments = session ? fromSession(session) : record ? announced(fromUrl(), conn) : fromUrl();
        return { access: record ? 'write' : 'read', segments };
      }
      case 'PLAY':
        // Without a known session the handler answers 454 anyway.
        return session ? { access: 'read', segments: fromSession(session) } : undefined;
      case 'RECORD':
        return session ? { access: 'write', segments: fromSession(session) } : undefined;
      default:
        return undefined;
    }
  }

  /** Whether the request may go ahead (and who logged in), else the response to send instead. */
  async check(req: RtspRequest, conn: RtspConnection): Promise<AccessOutcome> {
    const need = this.#needs(req, conn);
    if (!need) return {};
    const request: AccessRequest = {
      ...need,
      method: req.method,
      uri: req.uri,
      authorization: req.headers.get('authorization'),
      address: conn.remoteAddress,
      // A Digest nonce is good only on the connection it was issued on (no replay elsewhere).
      binding: `rtsp:${conn.id}`,
    };
    const d = await this.authorizer.authorize(request);
    if (d.allowed) return { user: d.user, realm: d.realm };
    const failed = authFailedEvent('rtsp', request, d.reason);
    this.#d.events?.emit('auth.failed', failed);
    const fields = {
      method: req.method,
      uri: req.uri.slice(0, 200),
      client: conn.remoteAddress,
      status: d.status,
    };
    if (d.status === 403) conn.log.warn(fields, d.reason);
    else if (need.access === 'write') conn.log.info(fields, d.reason);
    else conn.log.debug(fields, d.reason);
    if (d.delayMs > 0) await sleep(d.delayMs);
    const headers = new Headers();
    for (const c of d.challenges) headers.append('WWW-Authenticate', c);
    return {
      refused: { status: d.status, headers },
      refusal: { status: d.status, reason: d.reason, access: need.access, path: failed.path, user: failed.user, realm: d.realm },
    };
  }
}
