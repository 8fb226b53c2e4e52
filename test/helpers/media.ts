/** A scratch media folder filled with fixtures (copied: symlinks leading outside the media
 * folder are refused by the server, as they should be). */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './fixtures.js';
import { tempDir } from './server.js';

export async function mediaDirWith(names: string[]): Promise<{ dir: string; cleanup: () => void }> {
  const t = tempDir('rivulet-media-');
  for (const n of names) copyFileSync(await fixture(n), join(t.dir, n));
  return t;
}
