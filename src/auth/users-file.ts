/** The DSS users file (qtusers): a `realm <realm>` line, then `user:<crypt(password)>:<md5 hex of
 * user:realm:password>` per user — htpasswd and htdigest in one line. `#` lines are comments.
 *
 * Rivulet adds one kind of comment: `#sha-256 user:<sha256 of user:realm:password>:<md5 HA1>`,
 * the HA1 RFC 7616 SHA-256 Digest needs, which the MD5 line cannot give. DSS skips it as a
 * comment, so the file stays readable by DSS; it counts only while its MD5 HA1 still matches the
 * user's line, so a password changed by another tool never leaves the old one valid. */
import { createHash } from 'node:crypto';
import { hashPassword, verifyCrypt } from './crypt.js';

export interface UserEntry {
  name: string;
  /** crypt(3) hash, checked for Basic. */
  crypt: string;
  /** Lower-case hex MD5 of `user:realm:password`, for Digest MD5 (undefined when unusable). */
  ha1?: string;
  /** Lower-case hex SHA-256 of `user:realm:password`, for Digest SHA-256. */
  ha1Sha256?: string;
}

/** A line the parser could not use: reported with its number, never with its content (it may
 * hold a hash). */
export interface FileIssue {
  line: number;
  message: string;
}

export interface UsersFile {
  realm?: string;
  users: Map<string, UserEntry>;
  /** True when every user has a SHA-256 HA1, so SHA-256 Digest can be offered. */
  allSha256: boolean;
  issues: FileIssue[];
}

/** Longest user name and password qtpasswd accepts. */
export const MAX_NAME = 255;
export const MAX_PASSWORD = 80;

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const SHA_PREFIX = '#sha-256 ';

export const ha1Md5 = (user: string, realm: string, password: string) =>
  createHash('md5').update(`${user}:${realm}:${password}`, 'utf8').digest('hex');
export const ha1Sha256 = (user: string, realm: string, password: string) =>
  createHash('sha256').update(`${user}:${realm}:${password}`, 'utf8').digest('hex');

type Line =
  | { kind: 'realm'; realm: string }
  | { kind: 'user'; entry: UserEntry }
  | { kind: 'sha'; name: string; sha: string; md5: string }
  | { kind: 'other'; text: string };

function splitLines(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The users file as lines, kept in order so `rivulet passwd` rewrites only what it changes. */
export class UsersFileDoc {
  readonly #lines: Line[];
  readonly issues: FileIssue[] = [];

  private constructor(lines: Line[]) {
    this.#lines = lines;
  }

  static create(realm: string): UsersFileDoc {
    return new UsersFileDoc([{ kind: 'realm', realm }]);
  }

  static parse(text: string): UsersFileDoc {
    const lines: Line[] = [];
    const doc = new UsersFileDoc(lines);
    let sawContent = false;
    for (const [i, raw] of splitLines(text).entries()) {
      const t = raw.trimStart();
      if (t.startsWith(SHA_PREFIX)) {
        const [name, sha, md5] = t.slice(SHA_PREFIX.length).split(':');
        if (name && sha && md5 && HEX64.test(sha) && HEX32.test(md5)) {
          lines.push({ kind: 'sha', name, sha: sha.toLowerCase(), md5: md5.toLowerCase() });
        } else doc.issues.push({ line: i + 1, message: 'malformed #sha-256 line (ignored)' });
        continue;
      }
      if (t === '' || t.startsWith('#')) {
        lines.push({ kind: 'other', text: raw });
        continue;
      }
      // As DSS: the first non-comment line names the realm when its first word is `realm`.
      if (!sawContent) {
        sawContent = true;
        const m = /^realm(?:[ \t]+(.*))?$/.exec(t);
        if (m) {
          lines.push({ kind: 'realm', realm: (m[1] ?? '').trim() });
          continue;
        }
        doc.issues.push({ line: i + 1, message: 'the first line is not `realm <name>`' });
      }
      const c1 = t.indexOf(':');
      const c2 = c1 < 0 ? -1 : t.indexOf(':', c1 + 1);
      const name = c1 < 0 ? '' : t.slice(0, c1);
      if (c1 <= 0 || name.length > MAX_NAME) {
        doc.issues.push({ line: i + 1, message: 'not a user line (user:crypt:digest)' });
        lines.push({ kind: 'other', text: raw });
        continue;
      }
      const crypt = c2 < 0 ? t.slice(c1 + 1) : t.slice(c1 + 1, c2);
      const digest = c2 < 0 ? '' : t.slice(c2 + 1).trim();
      const entry: UserEntry = { name, crypt: crypt.trim() };
      if (HEX32.test(digest)) entry.ha1 = digest.toLowerCase();
      else
        doc.issues.push({
          line: i + 1,
          message: `user ${name} has no usable digest hash (Digest logins fail)`,
        });
      lines.push({ kind: 'user', entry });
    }
    return doc;
  }

  get realm(): string | undefined {
    for (const l of this.#lines) if (l.kind === 'realm') return l.realm;
    return undefined;
  }

  #userLine(name: string): { kind: 'user'; entry: UserEntry } | undefined {
    for (const l of this.#lines) if (l.kind === 'user' && l.entry.name === name) return l;
    return undefined;
  }

  has(name: string): boolean {
    return this.#userLine(name) !== undefined;
  }

  get names(): string[] {
    return this.#lines.flatMap((l) => (l.kind === 'user' ? [l.entry.name] : []));
  }

  /** Adds a user or changes a password (both hashes; the realm must exist). */
  setPassword(name: string, password: string): void {
    const realm = this.realm;
    if (realm === undefined) throw new Error('the users file has no realm line');
    const entry: UserEntry = {
      name,
      crypt: hashPassword(password),
      ha1: ha1Md5(name, realm, password),
      ha1Sha256: ha1Sha256(name, realm, password),
    };
    const sha: Line = { kind: 'sha', name, sha: entry.ha1Sha256!, md5: entry.ha1! };
    this.#dropSha(name);
    const at = this.#lines.findIndex((l) => l.kind === 'user' && l.entry.name === name);
    if (at >= 0) this.#lines.splice(at, 1, { kind: 'user', entry }, sha);
    else this.#lines.push({ kind: 'user', entry }, sha);
  }

  delete(name: string): boolean {
    const at = this.#lines.findIndex((l) => l.kind === 'user' && l.entry.name === name);
    if (at < 0) return false;
    this.#lines.splice(at, 1);
    this.#dropSha(name);
    return true;
  }

  #dropSha(name: string): void {
    for (let i = this.#lines.length - 1; i >= 0; i--) {
      const l = this.#lines[i];
      if (l.kind === 'sha' && l.name === name) this.#lines.splice(i, 1);
    }
  }

  toString(): string {
    return this.#lines
      .map((l) => {
        switch (l.kind) {
          case 'realm':
            return `realm ${l.realm}`;
          case 'user':
            return `${l.entry.name}:${l.entry.crypt}:${l.entry.ha1 ?? ''}`;
          case 'sha':
            return `${SHA_PREFIX}${l.name}:${l.sha}:${l.md5}`;
          default:
            return l.text;
        }
      })
      .map((l) => `${l}\n`)
      .join('');
  }

  /** The lookup view the server uses. */
  toUsers(): UsersFile {
    const users = new Map<string, UserEntry>();
    for (const l of this.#lines) {
      // The first line for a name wins, as in DSS.
      if (l.kind === 'user' && !users.has(l.entry.name)) users.set(l.entry.name, { ...l.entry });
    }
    for (const l of this.#lines) {
      const u = l.kind === 'sha' ? users.get(l.name) : undefined;
      if (l.kind === 'sha' && u && u.ha1 === l.md5) u.ha1Sha256 = l.sha;
    }
    const all = [...users.values()];
    return {
      realm: this.realm,
      users,
      allSha256: all.length > 0 && all.every((u) => u.ha1Sha256 !== undefined),
      issues: this.issues,
    };
  }
}

export function parseUsersFile(text: string): UsersFile {
  return UsersFileDoc.parse(text).toUsers();
}

/** A users file with nobody in it (one that cannot be read). */
export const NO_USERS: UsersFile = { users: new Map(), allSha256: false, issues: [] };

/** Hashed for a user that does not exist, so that a missing user takes as long as a wrong password. */
const NO_USER_HASH = '$1$nouser$xxxxxxxxxxxxxxxxxxxxxx';

/** Checks a Basic password against a user's stored crypt (undefined: no such user): `ok`, or why
 * not. No stored password is longer than MAX_PASSWORD, so a longer one costs no hashing. */
export function checkBasicPassword(password: string, crypt: string | undefined): 'ok' | 'password too long' | 'unknown user' | 'wrong password' {
  if (password.length > MAX_PASSWORD) return 'password too long';
  const ok = verifyCrypt(password, crypt ?? NO_USER_HASH);
  if (crypt === undefined) return 'unknown user';
  return ok ? 'ok' : 'wrong password';
}
