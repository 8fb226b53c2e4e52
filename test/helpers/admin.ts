/** What the admin tests set up the same way: users made with the real `rivulet passwd`, and the
 * admin on a free port of 127.0.0.1 reading those users and groups files. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';
import { freePort } from './gst-peer.js';

const MAIN = join(repoRoot, 'src/cli/main.ts');

/** `rivulet passwd ARGS`, as an operator runs it; fails the test when it fails. */
export function passwd(...args: string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'passwd', ...args], {
    cwd: repoRoot,
    timeout: 60_000,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `rivulet passwd ${args.join(' ')}: ${r.stderr}`);
}

/** The `sets` (for startServer) that put the admin on a free port of 127.0.0.1 with these users
 * and groups files, and that port. */
export async function adminSets(users: string, groups: string): Promise<{ port: number; sets: string[] }> {
  const port = await freePort();
  return {
    port,
    sets: [`admin.port=${port}`, 'admin.bind=127.0.0.1', `auth.usersFile=${users}`, `auth.groupsFile=${groups}`],
  };
}
