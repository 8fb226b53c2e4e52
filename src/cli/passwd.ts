/** `rivulet passwd`: manages the users and groups files, with qtpasswd's options, so DSS admins'
 * habits and scripts keep working. Files are replaced atomically (temp file + rename) and keep
 * their permissions. */
import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { GroupsFileDoc, MAX_NAME, MAX_PASSWORD, UsersFileDoc } from '../auth/index.js';
import { configSchema } from '../config/schema.js';
import { ConfigError, loadConfig } from '../config/index.js';

export const PASSWD_USAGE = `Usage: rivulet passwd [-c] [-f usersfile] [-g groupsfile] [-r realm]
                      [-p password | -P passwordfile] [-d] [-A group] [-D group]
                      [-C group] [-R group] [-F] [--config FILE] [username]

Adds a user to the users file or changes a password (asked twice, not shown, unless -p or -P
is given), and manages groups. The files are in the DSS qtusers/qtgroups formats, as written by
qtpasswd; a running server notices changes at once.

  -c           create the users file (asks before replacing an existing one unless -F)
  -f FILE      users file (default: auth.usersFile, /etc/streaming/qtusers)
  -g FILE      groups file (default: auth.groupsFile, /etc/streaming/qtgroups)
  -r REALM     realm of a new users file, with -c (default "Streaming Server"); Digest
               hashes depend on it, so a realm cannot change without new passwords
  -p PASSWORD  the password (visible to other users of this machine: prefer -P or the prompt)
  -P FILE      read the password from the first line of FILE
  -d           delete the user, and remove it from every group
  -A GROUP     add the user to GROUP (created if needed; a new user is asked a password)
  -D GROUP     remove the user from GROUP
  -C GROUP     create GROUP
  -R GROUP     delete GROUP
  -F           do not ask for confirmation (replace with -c, delete with -d or -R)
  --config F   take the default file paths from this Rivulet config file
  -h, --help   show this help

User and group names: up to ${MAX_NAME} characters, no colon, space or control character.
Passwords: 1 to ${MAX_PASSWORD} characters.
`;

export interface PasswdIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

class UsageError extends Error {}
class Failure extends Error {}

/** Lines from standard input, read only while one is wanted (so raw-mode password reading on a
 * terminal can take the stream in between). */
class LineReader {
  readonly #input: PasswdIo['stdin'];
  #buf = '';
  #ended = false;

  constructor(input: PasswdIo['stdin']) {
    this.#input = input;
  }

  next(): Promise<string | null> {
    const input = this.#input;
    return new Promise((resolve) => {
      const onData = (d: Buffer | string) => {
        this.#buf += d.toString();
        take();
      };
      const onEnd = () => {
        this.#ended = true;
        take();
      };
      const cleanup = () => {
        input.off('data', onData);
        input.off('end', onEnd);
        input.pause();
      };
      const take = (): boolean => {
        const nl = this.#buf.indexOf('\n');
        if (nl >= 0) {
          const line = this.#buf.slice(0, nl).replace(/\r$/, '');
          this.#buf = this.#buf.slice(nl + 1);
          cleanup();
          resolve(line);
          return true;
        }
        if (this.#ended) {
          const rest = this.#buf;
          this.#buf = '';
          cleanup();
          resolve(rest === '' ? null : rest);
          return true;
        }
        return false;
      };
      if (take()) return;
      input.on('data', onData);
      input.on('end', onEnd);
      input.resume();
    });
  }
}

/** Reads a line without echo on a terminal (raw mode); from a pipe, just the next line. */
function readHidden(prompt: string, io: PasswdIo, lines: LineReader): Promise<string | null> {
  const input = io.stdin;
  if (!input.isTTY || !input.setRawMode) {
    io.stderr.write(prompt);
    return lines.next().then((l) => {
      io.stderr.write('\n');
      return l;
    });
  }
  const setRaw = input.setRawMode.bind(input);
  io.stderr.write(prompt);
  return new Promise((resolve) => {
    let s = '';
    const finish = (v: string | null) => {
      input.off('data', onData);
      setRaw(false);
      input.pause();
      io.stderr.write('\n');
      resolve(v);
    };
    const onData = (d: Buffer | string) => {
      for (const ch of d.toString()) {
        if (ch === '\r' || ch === '\n') return finish(s);
        if (ch === '\u0003') return finish(null); // Ctrl-C
        if (ch === '\u0004') return finish(s === '' ? null : s); // Ctrl-D
        if (ch === '\u007f' || ch === '\b') s = [...s].slice(0, -1).join('');
        else if (ch >= ' ') s += ch;
      }
    };
    setRaw(true);
    input.on('data', onData);
    input.resume();
  });
}

/** Writes `text` to `path` through a temp file and rename, so readers see the old or the new file
 * whole; keeps an existing file's mode (and owner, when allowed). Writes through a symlink to its
 * target. */
export async function writeAtomic(path: string, text: string, newMode = 0o640): Promise<void> {
  let target = path;
  let mode = newMode;
  let owner: { uid: number; gid: number } | undefined;
  try {
    target = await realpath(path);
    const st = await stat(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch {
    // a new file
  }
  const tmp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(text);
      await fh.chmod(mode);
      if (owner) await fh.chown(owner.uid, owner.gid).catch(() => undefined);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Failure(`cannot read ${path}: ${(e as Error).message}`);
  }
}

// eslint-disable-next-line no-control-regex
const CTL = /[\x00-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex
const BAD_NAME = /[:\s\x00-\x1f\x7f]/;

function checkName(kind: string, name: string): void {
  if (name === '' || name.length > MAX_NAME || BAD_NAME.test(name)) {
    throw new UsageError(
      `${kind} name '${name.slice(0, 40)}' is invalid: 1 to ${MAX_NAME} characters, no colon, space or control character`,
    );
  }
}

export async function passwd(argv: string[], io: PasswdIo = process): Promise<number> {
  const out = (s: string) => io.stdout.write(`${s}\n`);
  try {
    return await run(argv, io, out);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`rivulet passwd: ${e.message}\n\n${PASSWD_USAGE}`);
      return 2;
    }
    if (e instanceof Failure || e instanceof ConfigError) {
      io.stderr.write(`rivulet passwd: ${e.message}\n`);
      return 1;
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`rivulet passwd: ${e.message}\n\n${PASSWD_USAGE}`);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code) {
      io.stderr.write(`rivulet passwd: ${err.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function run(argv: string[], io: PasswdIo, print: (s: string) => void): Promise<number> {
  // Said once the files are written.
  const said: string[] = [];
  const out = (s: string) => said.push(s);
  const { values: v, positionals } = parseArgs({
    args: argv,
    options: {
      create: { type: 'boolean', short: 'c' },
      file: { type: 'string', short: 'f' },
      groups: { type: 'string', short: 'g' },
      realm: { type: 'string', short: 'r' },
      password: { type: 'string', short: 'p' },
      'password-file': { type: 'string', short: 'P' },
      delete: { type: 'boolean', short: 'd' },
      add: { type: 'string', short: 'A' },
      remove: { type: 'string', short: 'D' },
      'create-group': { type: 'string', short: 'C' },
      'delete-group': { type: 'string', short: 'R' },
      force: { type: 'boolean', short: 'F' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (v.help) {
    io.stdout.write(PASSWD_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('one user name at a time');
  const user = positionals[0];
  const groupOps =
    v.add !== undefined ||
    v.remove !== undefined ||
    v['create-group'] !== undefined ||
    v['delete-group'] !== undefined;
  if (v.password !== undefined && v['password-file'] !== undefined)
    throw new UsageError('-p and -P cannot be used together');
  if (v.realm !== undefined && !v.create)
    throw new UsageError('-r only goes with -c (the realm of an existing file cannot change)');
  if (v.delete && (v.password !== undefined || v['password-file'] !== undefined || v.add !== undefined))
    throw new UsageError('-d cannot be combined with a password or -A');
  if (
    user === undefined &&
    (v.create ||
      v.delete ||
      v.add !== undefined ||
      v.remove !== undefined ||
      v.password !== undefined ||
      v['password-file'] !== undefined ||
      !groupOps)
  ) {
    throw new UsageError('a user name is needed');
  }
  if (user !== undefined) checkName('user', user);
  for (const g of [v.add, v.remove, v['create-group'], v['delete-group']])
    if (g !== undefined) checkName('group', g);
  if (v.realm !== undefined && (v.realm === '' || CTL.test(v.realm)))
    throw new UsageError('the realm must be a non-empty line of text');

  const defaults = v.config ? loadConfig({ configFile: v.config }).auth : configSchema.parse({}).auth;
  const usersPath = v.file ?? defaults.usersFile;
  const groupsPath = v.groups ?? defaults.groupsFile;
  const lines = new LineReader(io.stdin);
  const confirm = async (question: string): Promise<boolean> => {
    if (v.force) return true;
    io.stderr.write(`${question} (y/n) `);
    const answer = await lines.next();
    return /^y(es)?$/i.test((answer ?? '').trim());
  };

  // Users file.
  let users: UsersFileDoc | undefined;
  let usersChanged = false;
  const existingUsers = await readIfExists(usersPath);
  if (v.create) {
    if (
      existingUsers !== undefined &&
      !(await confirm(`${usersPath} exists. Replace it (its users are lost)?`))
    )
      throw new Failure(`${usersPath} left as it is`);
    users = UsersFileDoc.create(v.realm ?? 'Streaming Server');
    usersChanged = true;
  } else if (user !== undefined) {
    if (existingUsers === undefined)
      throw new Failure(`users file ${usersPath} does not exist (use -c to create it)`);
    users = UsersFileDoc.parse(existingUsers);
  }

  // Groups file, when a group changes or a deleted user must leave its groups.
  let groups: GroupsFileDoc | undefined;
  let groupsChanged = false;
  if (groupOps || v.delete) {
    const text = await readIfExists(groupsPath);
    groups = text === undefined ? GroupsFileDoc.create() : GroupsFileDoc.parse(text);
  }

  if (v.delete) {
    if (!users!.has(user)) throw new Failure(`user ${user} is not in ${usersPath}`);
    if (!(await confirm(`Delete user ${user}?`))) throw new Failure(`user ${user} not deleted`);
    users!.delete(user);
    usersChanged = true;
    groups!.removeEverywhere(user);
    groupsChanged = true;
  }

  const wantsPassword =
    !v.delete &&
    user !== undefined &&
    (v.password !== undefined ||
      v['password-file'] !== undefined ||
      !groupOps ||
      (v.add !== undefined && !users!.has(user)));
  let isNew = false;
  if (wantsPassword) {
    let password: string | null;
    if (v.password !== undefined) password = v.password;
    else if (v['password-file'] !== undefined) {
      const text = await readIfExists(v['password-file']);
      if (text === undefined) throw new Failure(`password file ${v['password-file']} does not exist`);
      password = text.split('\n')[0].replace(/\r$/, '');
    } else {
      password = await readHidden(`New password for ${user}: `, io, lines);
      if (password === null) throw new Failure('no password given');
      const again = await readHidden('Re-type new password: ', io, lines);
      if (again !== password) throw new Failure("the passwords don't match; nothing changed");
    }
    if (password === '' || password.length > MAX_PASSWORD)
      throw new Failure(`a password has 1 to ${MAX_PASSWORD} characters`);
    isNew = !users!.has(user);
    users!.setPassword(user, password);
    usersChanged = true;
  }

  const g = groups;
  const cg = v['create-group'];
  if (cg !== undefined) {
    if (g!.createGroup(cg)) {
      groupsChanged = true;
      out(`Created group ${cg}`);
    } else out(`Group ${cg} exists already`);
  }
  if (v.add !== undefined) {
    if (!users!.has(user)) throw new Failure(`user ${user} is not in ${usersPath}`);
    if (g!.addMember(v.add, user)) {
      groupsChanged = true;
      out(`Added ${user} to group ${v.add}`);
    } else out(`${user} is in group ${v.add} already`);
  }
  if (v.remove !== undefined) {
    if (!g!.removeMember(v.remove, user)) throw new Failure(`${user} is not in group ${v.remove}`);
    groupsChanged = true;
    out(`Removed ${user} from group ${v.remove}`);
  }
  const rg = v['delete-group'];
  if (rg !== undefined) {
    if (!g!.has(rg)) throw new Failure(`there is no group ${rg} in ${groupsPath}`);
    if (!(await confirm(`Delete group ${rg}?`))) throw new Failure(`group ${rg} not deleted`);
    g!.deleteGroup(rg);
    groupsChanged = true;
    out(`Deleted group ${rg}`);
  }

  // Users first: a group naming a user that does not exist yet is harmless, the reverse order
  // could briefly leave a deleted user's group rights in place.
  if (usersChanged) await writeAtomic(usersPath, users!.toString());
  if (groupsChanged) await writeAtomic(groupsPath, g!.toString());
  if (v.delete) said.unshift(`Deleted user ${user}`);
  else if (wantsPassword) said.unshift(isNew ? `Added user ${user}` : `Changed the password of ${user}`);
  for (const s of said) print(s);
  return 0;
}
