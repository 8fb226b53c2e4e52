/** Programs that refuse to run as root (VLC, icecast2) run as nobody:nogroup when the tests run as
 * root (as CI does), and as the current user otherwise. Node's spawn sets the ids (and, from root,
 * drops the supplementary groups), so no setpriv/sudo is needed either way. */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when this process is root. */
export const runningAsRoot = process.getuid?.() === 0;

/** Numeric id of `name` in the passwd (`user`) or group database, via getent. */
function lookupId(db: 'passwd' | 'group', name: string, fallback: number): number {
  const r = spawnSync('getent', [db, name], { encoding: 'utf8', timeout: 5_000 });
  const id = Number(r.stdout?.split(':')[2]);
  return Number.isInteger(id) ? id : fallback;
}

let ids: { uid: number; gid: number } | undefined;

/** The ids a child should take: nobody/nogroup when root, undefined (stay as is) otherwise. */
export function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (!runningAsRoot) return undefined;
  ids ??= { uid: lookupId('passwd', 'nobody', 65534), gid: lookupId('group', 'nogroup', 65534) };
  return ids;
}

/** A scratch folder the unprivileged user can write (chowned to it when root); `cleanup`
 * removes it. */
export function userScratchDir(prefix = 'rivulet-user-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const u = unprivilegedIds();
  if (u) chownSync(dir, u.uid, u.gid);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface UnprivilegedChild {
  child: ChildProcess;
  /** The HOME it was given (a scratch folder it can write unless `home` was passed). */
  home: string;
  /** Removes the scratch HOME this call made (not one passed in); call after the child exits. */
  cleanup: () => void;
}

/** Spawns `cmd` as the unprivileged user with HOME (and the XDG folders) in a folder it can write.
 * `home`: use this folder instead of a new one. `stdio` defaults to ignore/pipe/pipe. */
export function spawnUnprivileged(
  cmd: string,
  args: string[],
  opts: { home?: string; env?: NodeJS.ProcessEnv; cwd?: string; stdio?: StdioOptions } = {},
): UnprivilegedChild {
  const scratch = opts.home === undefined ? userScratchDir('rivulet-home-') : undefined;
  const home = opts.home ?? scratch!.dir;
  const env: NodeJS.ProcessEnv = {
    ...(opts.env ?? process.env),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_RUNTIME_DIR: home,
  };
  const child = spawn(cmd, args, {
    ...unprivilegedIds(),
    env,
    cwd: opts.cwd ?? home,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  return { child, home, cleanup: () => scratch?.cleanup() };
}
