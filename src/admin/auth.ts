/** Who may use the admin: members of admin.group (auth.groupsFile) with a password in
 * auth.usersFile, signed in with the form (a session cookie), or sending HTTP Basic or Digest
 * credentials, or `Authorization: Bearer` with one of admin.tokens (scripts). The files are read
 * again when they change on disk (`rivulet passwd` under a running server), and a session ends
 * when its user leaves the group. Failed sign-ins and credentials are throttled per address (an
 * IPv6 /64) with RTSP's rule (auth.failuresBeforeDelay, auth.maxFailureDelay): each failure past
 * the free ones shuts the address out longer. Unlike RTSP, nothing is held back: while shut out,
 * the address is answered 429 with Retry-After at once, its credentials unchecked, so a flood of
 * guesses holds no socket open and costs no hashing. */
import type { Config } from '../config/index.js';
import {
  formatBasicChallenge,
  formatDigestChallenge,
  parseAuthorization,
  checkBasicPassword,
  NO_GROUPS,
  NO_USERS,
  type DigestCredentials,
  type GroupsFile,
  type UsersFile,
} from '../auth/index.js';
import { checkDigestAnswer, NonceStore } from '../auth/digest.js';
import { parseGroupsFile } from '../auth/groups-file.js';
import { FailureThrottle } from '../auth/throttle.js';
import { MAX_NAME, parseUsersFile } from '../auth/users-file.js';
import { WatchedFiles, type Loaded } from '../auth/watched-file.js';
import type { ApiCaller } from '../http/index.js';
import type { Logger } from '../logging/index.js';
import { AdminSessions, sameSecret, type AdminSession } from './sessions.js';

export interface AdminAuthOptions {
  /** The running config, read at each use (files, group, tokens and timeout may change). */
  config: () => Pick<Config, 'auth' | 'admin'>;
  log: Logger;
  now?: () => number;
}

/** The admin users as the files say now. */
export interface AdminUsers {
  usersFile: string;
  groupsFile: string;
  group: string;
  /** Members of the group with a line in the users file. */
  names: Set<string>;
  users: UsersFile;
  /** Whether the users file exists (the setup page then says not to create it again). */
  usersFileExists: boolean;
}

/** A request's credentials, as the HTTP layer found them. */
export interface CredentialsRequest {
  method: string;
  /** The request target, which a Digest answer covers. */
  url: string;
  address: string;
  authorization?: string;
  /** The session cookie's value. */
  session?: string;
  /** Send no challenge: the request is a page's fetch, and a challenge would make the browser
   * ask for a password in a dialog of its own instead of the page sending it to sign in. */
  quiet: boolean;
}

export interface AuthRefusal {
  ok: false;
  /** 429: the address is shut out after too many failures (see `retryAfterS`). */
  status: 401 | 403 | 429;
  /** What the client is told. */
  error: string;
  /** WWW-Authenticate values (401 only). */
  challenges: string[];
  /** 429: seconds until the address may try again (the Retry-After header). */
  retryAfterS?: number;
}

export type AuthOutcome = { ok: true; caller: ApiCaller; session?: AdminSession } | AuthRefusal;

export type SignInOutcome =
  | { ok: true; session: AdminSession }
  /** `retryAfterS`: refused unchecked, the address is shut out for that long (429). */
  | { ok: false; error: string; retryAfterS?: number };

/** Hashed when the user is unknown, so that costs the time of a wrong password. */
/** Longest bearer token looked at. */
const MAX_TOKEN_BYTES = 1024;

export class AdminAuth {
  readonly sessions: AdminSessions;
  readonly #o: AdminAuthOptions;
  readonly #users: WatchedFiles<UsersFile>;
  readonly #groups: WatchedFiles<GroupsFile>;
  readonly #nonces: NonceStore;
  readonly #throttle: FailureThrottle;
  /** The last complaint logged per file, so the log says each once. */
  readonly #warned = new Map<string, string>();

  constructor(opts: AdminAuthOptions) {
    this.#o = opts;
    const issues = (kind: string, path: string, list: { line: number; message: string }[]) => {
      for (const i of list) opts.log.warn({ file: path, line: i.line }, `${kind}: ${i.message}`);
    };
    this.#users = new WatchedFiles((text, path) => {
      const u = parseUsersFile(text);
      issues('users file', path, u.issues);
      return u;
    }, 16);
    this.#groups = new WatchedFiles((text, path) => {
      const g = parseGroupsFile(text);
      issues('groups file', path, g.issues);
      return g;
    }, 16);
    const auth = opts.config().auth;
    this.#nonces = new NonceStore({ lifetimeMs: auth.nonceLifetime * 1000, now: opts.now });
    this.#throttle = new FailureThrottle({
      freeFailures: auth.failuresBeforeDelay,
      maxDelayMs: auth.maxFailureDelay * 1000,
      now: opts.now,
    });
    this.sessions = new AdminSessions({
      timeoutMs: () => opts.config().admin.sessionTimeout * 1000,
      now: opts.now,
    });
  }

  /** The admin users now. */
  async admins(): Promise<AdminUsers> {
    const cfg = this.#o.config();
    const { usersFile, groupsFile } = cfg.auth;
    const group = cfg.admin.group;
    const [u, g] = await Promise.all([this.#users.get(usersFile), this.#groups.get(groupsFile)]);
    const users = this.#loaded(usersFile, u, NO_USERS);
    const groups = this.#loaded(groupsFile, g, NO_GROUPS);
    const names = new Set([...(groups.groups.get(group) ?? [])].filter((n) => users.users.has(n)));
    return { usersFile, groupsFile, group, names, users, usersFileExists: u.ok || !u.missing };
  }

  #loaded<T>(path: string, l: Loaded<T>, empty: T): T {
    if (l.ok) {
      this.#warned.delete(path);
      return l.value;
    }
    if (this.#warned.get(path) !== l.error) {
      this.#warned.set(path, l.error);
      this.#o.log.warn(
        { file: path, error: l.error },
        'admin: a users or groups file cannot be read; nobody it names can sign in',
      );
    }
    return empty;
  }

  /** Checks the sign-in form's user and password; a session for an admin, else a refusal
   * (the same for an unknown user, a wrong password and a user who is no admin). */
  async signIn(user: string, password: string, address: string): Promise<SignInOutcome> {
    const error = 'wrong user name or password, or the user is not an administrator';
    const retryAfterS = this.#shutOut(address);
    if (retryAfterS > 0)
      return { ok: false, error: `too many failed sign-ins, try again in ${retryAfterS} s`, retryAfterS };
    const admins = await this.admins();
    const entry = user.length <= MAX_NAME ? admins.users.users.get(user) : undefined;
    const verdict = checkBasicPassword(password, entry?.crypt);
    if (verdict !== 'ok' || !admins.names.has(user)) {
      const why = verdict !== 'ok' ? verdict : `not a member of ${admins.group}`;
      this.#fail(address, user, `sign-in refused: ${why}`);
      return { ok: false, error };
    }
    this.#throttle.succeed(address, user);
    this.#o.log.info({ client: address, user }, 'admin: signed in');
    return { ok: true, session: this.sessions.create(user) };
  }

  /** Who sent a request: its Authorization header when it has one, else its session cookie. */
  async authenticate(r: CredentialsRequest): Promise<AuthOutcome> {
    const admins = await this.admins();
    const challenge = (error: string, stale = false): AuthRefusal => ({
      ok: false,
      status: 401,
      error,
      challenges: r.quiet ? [] : this.#challenges(admins.users, r.address, stale),
    });
    if (r.authorization !== undefined) {
      const retryAfterS = this.#shutOut(r.address);
      if (retryAfterS > 0)
        return {
          ok: false,
          status: 429,
          error: `too many failed logins, try again in ${retryAfterS} s`,
          challenges: [],
          retryAfterS,
        };
      const bearer = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(r.authorization);
      if (bearer) {
        const token = bearer[1];
        if (
          token.length <= MAX_TOKEN_BYTES &&
          this.#o.config().admin.tokens.some((t) => sameSecret(t, token))
        )
          return { ok: true, caller: { user: 'token', via: 'bearer' } };
        this.#fail(r.address, undefined, 'bearer token refused');
        return challenge('unknown bearer token');
      }
      let creds;
      try {
        creds = parseAuthorization(r.authorization);
      } catch (e) {
        this.#fail(r.address, undefined, (e as Error).message);
        return challenge(`malformed credentials: ${(e as Error).message}`);
      }
      if (creds.scheme === 'other')
        return challenge(
          `${creds.name.slice(0, 20)} credentials are not understood: use Basic, Digest or Bearer`,
        );
      const verdict =
        creds.scheme === 'basic'
          ? checkBasicPassword(creds.password, admins.users.users.get(creds.user)?.crypt)
          : this.#checkDigest(creds, admins.users, r);
      if (verdict === 'stale') return challenge('the nonce expired', true);
      if (verdict !== 'ok') {
        this.#fail(r.address, creds.user, `${creds.scheme} login refused: ${verdict}`);
        return challenge('wrong user name or password');
      }
      this.#throttle.succeed(r.address, creds.user);
      if (!admins.names.has(creds.user)) {
        this.#o.log.warn(
          { client: r.address, user: creds.user.slice(0, 64) },
          `admin: user is not a member of ${admins.group}`,
        );
        return {
          ok: false,
          status: 403,
          error: `user ${creds.user} is not an administrator (group ${admins.group})`,
          challenges: [],
        };
      }
      return { ok: true, caller: { user: creds.user, via: creds.scheme } };
    }
    const session = this.sessions.use(r.session);
    if (session && admins.names.has(session.user))
      return {
        ok: true,
        caller: { user: session.user, via: 'session', csrfToken: session.csrfToken },
        session,
      };
    if (session) this.sessions.endUser(session.user);
    if (admins.names.size === 0 && this.#o.config().admin.tokens.length === 0) {
      const cmd = setupCommands(admins);
      return challenge(
        `no administrator exists yet: run ${admins.usersFileExists ? cmd.add : cmd.create} on the server`,
      );
    }
    return challenge(r.session === undefined ? 'sign in first' : 'the session ended: sign in again');
  }

  #challenges(users: UsersFile, address: string, stale: boolean): string[] {
    const realm = users.realm ?? this.#o.config().auth.realm;
    const nonce = this.#nonces.issue(address);
    const out: string[] = [];
    if (users.allSha256)
      out.push(formatDigestChallenge({ realm, nonce, algorithm: 'SHA-256', qop: true, stale }));
    out.push(
      formatDigestChallenge({ realm, nonce, algorithm: 'MD5', qop: true, stale }),
      formatBasicChallenge(realm),
    );
    return out;
  }

  /** `ok`, `stale`, or why the answer is wrong. Nonces are bound to the address only: an HTTP
   * client may answer on a new connection. */
  #checkDigest(c: DigestCredentials, users: UsersFile, r: CredentialsRequest): string {
    const verdict = checkDigestAnswer(c, {
      realm: users.realm ?? this.#o.config().auth.realm,
      user: users.users.get(c.user),
      method: r.method,
      uriMatches: c.uri === r.url,
      nonces: this.#nonces,
      binding: r.address,
    });
    return verdict === 'foreign' ? 'stale' : verdict;
  }

  /** Counts a failure: past the free ones, it shuts the address out for the throttle's delay. */
  #fail(address: string, user: string | undefined, reason: string): void {
    const { count, delayMs } = this.#throttle.fail(address, user);
    this.#o.log.warn(
      { client: address, user: user?.slice(0, 64), failures: count, shutOutMs: delayMs },
      `admin: ${reason}`,
    );
  }

  /** Whole seconds the address is still shut out for (0: it may try), counting the refusal. */
  #shutOut(address: string): number {
    const ms = this.#throttle.retryAfterMs(address);
    if (ms <= 0) return 0;
    const n = this.#throttle.refuseUnchecked(address);
    // Said at 1, 2, 4, 8...: a flood must not flood the log.
    if ((n & (n - 1)) === 0)
      this.#o.log.warn(
        { client: address, refused: n, retryAfterMs: ms },
        'admin: login refused unchecked (429): too many failed logins from the address',
      );
    return Math.ceil(ms / 1000);
  }
}


/** What the setup page says to run. */
export interface SetupCommands {
  /** With the users file there already. */
  add: string;
  /** Creating the users file too (`-c`). */
  create: string;
}

/** The commands that make the first administrator, with the files and group the server reads. */
export function setupCommands(a: Pick<AdminUsers, 'usersFile' | 'groupsFile' | 'group'>): SetupCommands {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const args = `-f ${q(a.usersFile)} -g ${q(a.groupsFile)} -A ${q(a.group)} NAME`;
  return { add: `rivulet passwd ${args}`, create: `rivulet passwd -c ${args}` };
}

/** Why a request that changes something is refused as coming from another site, or undefined
 * when it may come from this one: a browser names the page that sent it (Origin, or Referer
 * when it sends no Origin) and says whether it is another site (Sec-Fetch-Site); a request that
 * says neither is no browser's cross-site request (curl, scripts). */
export function crossSiteReason(
  h: { origin?: string; referer?: string; host?: string; 'sec-fetch-site'?: string },
  scheme: 'http' | 'https',
): string | undefined {
  const site = h['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site')
    return `the request came from another site (Sec-Fetch-Site: ${site})`;
  const from = h.origin ?? h.referer;
  if (from === undefined) return undefined;
  let origin: URL;
  try {
    origin = new URL(from);
  } catch {
    return `the request came from an unknown origin (${from.slice(0, 100)})`;
  }
  const host = (h.host ?? '').toLowerCase();
  if (origin.protocol !== `${scheme}:` || origin.host.toLowerCase() !== host)
    return `the request came from ${origin.origin.slice(0, 100)}, not from this admin`;
  return undefined;
}
