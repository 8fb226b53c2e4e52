/** Decides whether a request may read (play) or write (broadcast) a path: finds the governing
 * qtaccess, checks the credentials the client sent against the users file, and says what to
 * answer — go ahead, 401 with challenges, or 403. Protocol-neutral: the RTSP handler turns the
 * decision into a response. */
import { timingSafeEqual } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import { addressAllowed, HeaderError } from '../net/index.js';
import {
  formatBasicChallenge,
  formatDigestChallenge,
  parseAuthorization,
  type DigestCredentials,
} from './authorization-header.js';
import { governingFolder, nearestAccessFile } from './access-lookup.js';
import { checkDigestAnswer, NonceStore } from './digest.js';
import { NO_GROUPS, parseGroupsFile, type GroupsFile } from './groups-file.js';
import { parseAccessFile, type AccessFile, type AccessRule } from './qtaccess.js';
import { FailureThrottle } from './throttle.js';
import { checkBasicPassword, NO_USERS, parseUsersFile, type UsersFile } from './users-file.js';
import { WatchedFiles } from './watched-file.js';

export type Access = 'read' | 'write';

export interface AccessRequest {
  access: Access;
  /** Decoded path segments below the media folder naming the file or live stream. */
  segments: string[];
  /** Request method and URI, which Digest responses cover. */
  method: string;
  uri: string;
  /** The Authorization header, if any. */
  authorization?: string;
  /** Client address (IPv4, IPv6 or IPv4-mapped). */
  address: string;
  /** What the request came over, unique for the process's life (e.g. `rtsp:<connection id>`):
   * Digest nonces are bound to it and to `address`, so an answer captured on one connection is
   * refused on another. Left out: nonces are bound to the address only. */
  binding?: string;
}

export type AccessDecision =
  | {
      allowed: true;
      /** The user who logged in (none when the path needs no login). */
      user?: string;
      /** The realm the login was asked in (the access log's sc(Realm)), when one was. */
      realm?: string;
    }
  | {
      allowed: false;
      status: 401 | 403;
      /** The realm of the challenge, or of the login that was refused, when the path has one. */
      realm?: string;
      /** For the log; never sent to the client. */
      reason: string;
      /** WWW-Authenticate values (401 only), most preferred first. */
      challenges: string[];
      /** Hold the answer this long: failed logins from one address are answered one after
       * another, each later than the one before. */
      delayMs: number;
    };

/** A publisher's plain login (`Authorizer.checkPublisherLogin`). */
export interface PublisherLogin {
  /** The user it gave; undefined when its protocol has none (a SHOUTcast password line). */
  user?: string;
  password: string;
  address: string;
  /** The user whose password is the shared one (Icecast's `source`). */
  sharedUser: string;
  /** The shared password; '' = none is accepted. */
  sharedPassword: string;
}

export type PublisherLoginAnswer = { ok: true; user: string } | { ok: false; reason: string; delayMs: number };

/** Who may publish to a path without a password, and the config key that says so. */
export interface PublishAllow {
  addresses: string[];
  /** E.g. `live.publishAllow` or `paths.live/cam1.publishAllow`. */
  setting: string;
}

export interface AuthorizerOptions {
  /** The `auth:` settings, or a getter for the running ones. A getter is read at each request, so
   * a reload that changes auth.scheme or auth.realm (or replaces the whole section) applies to
   * the next request; the nonce lifetime and failure throttling are read once, at construction. */
  auth: Config['auth'] | (() => Config['auth']);
  /** Addresses that may broadcast to the stream these segments name without a password: the
   * path's publishAllow (live.publishAllow unless a `paths:` entry overrides it). Asked at each
   * write request, so the caller owns where per-path settings come from; `setting` names the
   * config key the list came from, for the log. */
  publishAllow: (segments: string[]) => PublishAllow;
  /** Real path of the media folder. */
  mediaRoot: string;
  log: Logger;
  now?: () => number;
}

/** `ok`, `stale` (right password, old nonce), `foreign` (right answer for a nonce issued to
 * another connection or address), or why the credentials failed. */
type Verdict = string;

const ANY: AccessRule[] = [{ kind: 'any-user', names: [] }];
const VALID: AccessRule[] = [{ kind: 'valid-user', names: [] }];

/** Path part of a request URI or Digest `uri` (`rtsp://h:p/a/b?x` and `/a/b?x` → `/a/b?x`). */
function uriPath(u: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(u);
  const p = m ? u.slice(m[0].length) : u;
  return p === '' ? '/' : p;
}

export class Authorizer {
  readonly #o: AuthorizerOptions;
  readonly #log: Logger;
  readonly #access: WatchedFiles<AccessFile>;
  readonly #users: WatchedFiles<UsersFile>;
  readonly #groups: WatchedFiles<GroupsFile>;
  readonly #nonces: NonceStore;
  readonly #throttle: FailureThrottle;
  /** Unreadable users/groups files already warned about (path → error), so the log says it once. */
  readonly #warned = new Map<string, string>();

  readonly #auth: () => Config['auth'];

  constructor(opts: AuthorizerOptions) {
    this.#o = opts;
    const auth = opts.auth;
    this.#auth = typeof auth === 'function' ? auth : () => auth;
    this.#log = opts.log;
    const logIssues = (kind: string) => (path: string, issues: { line: number; message: string }[]) => {
      for (const i of issues) this.#log.warn({ file: path, line: i.line }, `${kind}: ${i.message}`);
    };
    this.#access = new WatchedFiles((text, path) => {
      const f = parseAccessFile(text);
      for (const i of f.issues)
        this.#log.error(
          { file: path, line: i.line },
          `access file line ${i.line}: ${i.message}; the folder is closed until it is fixed`,
        );
      return f;
    });
    const usersIssues = logIssues('users file');
    this.#users = new WatchedFiles((text, path) => {
      const u = parseUsersFile(text);
      usersIssues(path, u.issues);
      this.#log.info({ file: path, users: u.users.size }, 'users file loaded');
      return u;
    });
    const groupsIssues = logIssues('groups file');
    this.#groups = new WatchedFiles((text, path) => {
      const g = parseGroupsFile(text);
      groupsIssues(path, g.issues);
      return g;
    });
    const first = this.#auth();
    this.#nonces = new NonceStore({ lifetimeMs: first.nonceLifetime * 1000, now: opts.now });
    this.#throttle = new FailureThrottle({
      freeFailures: first.failuresBeforeDelay,
      maxDelayMs: first.maxFailureDelay * 1000,
      now: opts.now,
    });
  }

  async authorize(r: AccessRequest): Promise<AccessDecision> {
    // The running settings, read once per request so that one request sees one scheme and realm.
    const a = this.#auth();
    const client = r.address;
    const binding = `${client}\n${r.binding ?? ''}`;
    const forbid = (reason: string, realm?: string): AccessDecision => ({
      allowed: false,
      status: 403,
      realm,
      reason,
      challenges: [],
      delayMs: 0,
    });
    if (r.segments.some((s) => s === a.accessFileName)) return forbid('access files are never served');

    const folder = await governingFolder(this.#o.mediaRoot, r.segments);
    if (folder === null) return forbid(`/${r.segments.join('/')} leads outside the media folder`);
    const accessPath = await nearestAccessFile(this.#o.mediaRoot, folder, a.accessFileName);
    let af: AccessFile | undefined;
    if (accessPath) {
      const loaded = await this.#access.get(accessPath);
      if (!loaded.ok)
        return forbid(`access file ${accessPath} cannot be read (${loaded.error}); the folder is closed`);
      af = loaded.value;
      if (af.issues.length > 0) {
        const first = af.issues[0];
        return forbid(
          `access file ${accessPath} line ${first.line} is malformed (${first.message}); the folder is closed`,
        );
      }
    }

    let rules: AccessRule[];
    const publishAllow = r.access === 'write' ? this.#o.publishAllow(r.segments) : undefined;
    if (publishAllow) {
      if (addressAllowed(client, publishAllow.addresses)) return { allowed: true };
      rules = [...(af?.write ?? []), { kind: 'group', names: [a.broadcasterGroup] }];
    } else rules = af ? af.read : a.allowGuestDefault ? ANY : VALID;
    if (rules.some((x) => x.kind === 'any-user')) return { allowed: true };
    if (rules.length === 0) return forbid(`${accessPath} has no rule for ${r.access.toUpperCase()}`);

    const what =
      r.access === 'write' ? `broadcasting to /${r.segments.join('/')}` : `/${r.segments.join('/')}`;
    const scheme = af?.scheme ?? a.scheme;
    if (scheme === 'none') {
      const why =
        publishAllow
          ? `publishing from ${client} is not allowed (${publishAllow.setting}) and auth.scheme is none`
          : `${what} needs a login and auth.scheme is none`;
      return forbid(why);
    }
    const base = accessPath ? dirname(accessPath) : undefined;
    const at = (p: string | undefined, fallback: string) =>
      p === undefined ? fallback : isAbsolute(p) || !base ? p : resolve(base, p);
    const usersPath = at(af?.userFile, a.usersFile);
    const groupsPath = at(af?.groupFile, a.groupsFile);
    const users = await this.#loadUsers(usersPath);
    const digestRealm = users.realm ?? a.realm;
    // Digest answers are bound to the users file's realm; a Basic challenge may name the folder.
    const realm = scheme === 'basic' ? (af?.authName ?? users.realm ?? a.realm) : digestRealm;
    const challenges = (stale: boolean): string[] => {
      if (scheme === 'basic') return [formatBasicChallenge(realm)];
      const nonce = this.#nonces.issue(binding);
      const out: string[] = [];
      // Preferred first (RFC 7616 §3.7); clients that know only MD5 (ffmpeg, GStreamer 1.22)
      // take the last Digest challenge they read, so MD5 goes last.
      if (users.allSha256)
        out.push(
          formatDigestChallenge({ realm: digestRealm, nonce, algorithm: 'SHA-256', qop: true, stale }),
        );
      out.push(formatDigestChallenge({ realm: digestRealm, nonce, algorithm: 'MD5', qop: true, stale }));
      return out;
    };
    const challenge = (reason: string, stale = false, delayMs = 0): AccessDecision => ({
      allowed: false,
      status: 401,
      realm,
      reason,
      challenges: challenges(stale),
      delayMs,
    });
    const failed = (user: string | undefined, reason: string): AccessDecision => {
      const { count, delayMs } = this.#throttle.fail(client, user);
      this.#log.warn(
        {
          client,
          user: user?.slice(0, 64),
          method: r.method,
          uri: r.uri.slice(0, 200),
          failures: count,
          delayMs,
        },
        `authentication failed: ${reason}`,
      );
      return challenge(`authentication failed: ${reason}`, false, delayMs);
    };

    if (!r.authorization) {
      if (publishAllow)
        return challenge(`publishing from ${client} is not allowed (${publishAllow.setting}) without a login`);
      return challenge(`${what} needs a login`);
    }
    if (this.#throttle.full(client)) {
      // Checked before parsing or hashing: a flood of parallel guesses costs nothing and
      // learns nothing while earlier failures from the address are still being held.
      const n = this.#throttle.refuseUnchecked(client);
      if ((n & (n - 1)) === 0)
        this.#log.warn(
          { client, method: r.method, uri: r.uri.slice(0, 200), refused: n },
          'login refused unchecked: too many failed logins from the address are still being held back',
        );
      return challenge('too many failed logins from the address are being held back');
    }
    let creds;
    try {
      creds = parseAuthorization(r.authorization);
    } catch (e) {
      if (e instanceof HeaderError) return failed(undefined, e.message);
      throw e;
    }
    if (creds.scheme === 'other') return challenge(`${creds.name} credentials are not understood`);
    if (creds.scheme !== scheme) return challenge(`${creds.scheme} credentials where ${scheme} is used`);
    const verdict =
      creds.scheme === 'basic'
        ? checkBasicPassword(creds.password, users.users.get(creds.user)?.crypt)
        : this.#checkDigest(creds, users, digestRealm, r, binding);
    if (verdict === 'stale') return challenge('nonce expired', true);
    if (verdict === 'foreign') {
      this.#log.info(
        { client, user: creds.user.slice(0, 64), method: r.method, uri: r.uri.slice(0, 200) },
        'Digest answer for a nonce issued to another connection or address (replayed, or reused by a reconnecting client): asked again',
      );
      return challenge('nonce issued to another connection or address', true);
    }
    if (verdict !== 'ok') return failed(creds.user, verdict);
    const user = creds.user;
    this.#throttle.succeed(client, user);

    const groups = rules.some((x) => x.kind === 'group') ? await this.#loadGroups(groupsPath) : NO_GROUPS;
    const permitted = rules.some((x) => {
      switch (x.kind) {
        case 'valid-user':
          return true;
        case 'user':
          return x.names.includes(user);
        case 'group':
          return x.names.some((g) => groups.groups.get(g)?.has(user) ?? false);
        default:
          return false;
      }
    });
    if (!permitted) {
      this.#log.warn(
        { client, user, method: r.method, uri: r.uri.slice(0, 200) },
        'authenticated user refused',
      );
      return forbid(
        r.access === 'write'
          ? `user ${user} may not broadcast to /${r.segments.join('/')}`
          : `user ${user} may not play ${what}`,
        realm,
      );
    }
    return { allowed: true, user, realm };
  }


  /** A publisher's login given as a plain user and password (an internet radio source: Icecast
   * Basic, a SHOUTcast password line): the shared password when the user is `sharedUser` (or
   * none is given), else a user of the global users file in auth.broadcasterGroup. Failures are
   * logged and throttled per address as every other login. Address allow-lists do not apply: these
   * protocols always carry a password. */
  async checkPublisherLogin(login: PublisherLogin): Promise<PublisherLoginAnswer> {
    const a = this.#auth();
    const { address, password } = login;
    const user = login.user ?? login.sharedUser;
    if (this.#throttle.full(address)) {
      this.#throttle.refuseUnchecked(address);
      return { ok: false, reason: 'too many failed logins from the address are being held back', delayMs: 0 };
    }
    const fail = (reason: string): PublisherLoginAnswer => {
      const { count, delayMs } = this.#throttle.fail(address, user);
      this.#log.warn({ client: address, user: user.slice(0, 64), failures: count, delayMs }, `publisher login failed: ${reason}`);
      return { ok: false, reason, delayMs };
    };
    if (user === login.sharedUser) {
      if (login.sharedPassword === '') return fail(`no shared source password is set; log in as a user of group ${a.broadcasterGroup}`);
      const given = Buffer.from(password);
      const want = Buffer.from(login.sharedPassword);
      if (given.length !== want.length || !timingSafeEqual(given, want)) return fail('wrong source password');
      this.#throttle.succeed(address, user);
      return { ok: true, user };
    }
    const users = await this.#loadUsers(a.usersFile);
    const verdict = checkBasicPassword(password, users.users.get(user)?.crypt);
    if (verdict !== 'ok') return fail(verdict);
    this.#throttle.succeed(address, user);
    const groups = await this.#loadGroups(a.groupsFile);
    if (!(groups.groups.get(a.broadcasterGroup)?.has(user) ?? false)) {
      this.#log.warn({ client: address, user }, 'authenticated user refused');
      return { ok: false, reason: `user ${user} is not in group ${a.broadcasterGroup}`, delayMs: 0 };
    }
    return { ok: true, user };
  }

  #checkDigest(c: DigestCredentials, users: UsersFile, realm: string, r: AccessRequest, binding: string): Verdict {
    return checkDigestAnswer(c, { realm, user: users.users.get(c.user), method: r.method, uriMatches: uriPath(c.uri) === uriPath(r.uri), nonces: this.#nonces, binding });
  }

  async #loadUsers(path: string): Promise<UsersFile> {
    const l = await this.#users.get(path);
    if (l.ok) {
      this.#warned.delete(path);
      return l.value;
    }
    if (this.#warned.get(path) !== l.error) {
      this.#warned.set(path, l.error);
      this.#log.warn({ file: path, error: l.error }, 'users file cannot be read: nobody can log in');
    }
    return NO_USERS;
  }

  async #loadGroups(path: string): Promise<GroupsFile> {
    const l = await this.#groups.get(path);
    if (l.ok) {
      this.#warned.delete(path);
      return l.value;
    }
    if (this.#warned.get(path) !== l.error) {
      this.#warned.set(path, l.error);
      this.#log.warn({ file: path, error: l.error }, 'groups file cannot be read: group rules match nobody');
    }
    return NO_GROUPS;
  }
}
