/** Third-party tools a test cannot run without. On a developer's machine a missing one skips the
 * test with the reason; in CI (`CI` set, as CI services do) it fails, so a broken install cannot
 * pass as a row of skipped tests. */
import type { TestContext } from 'node:test';

/** True when `CI` is set to anything but an explicit no. */
export const inCI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

/** Call where a test finds `tool` missing, then return: skips outside CI, throws in CI. */
export function missingTool(t: TestContext, tool: string, why: string): void {
  if (inCI) throw new Error(`${tool} is missing (${why}); .ci/run must install it`);
  t.skip(`${tool} is not installed: ${why}`);
}

/** A test's `skip` option for a tool found missing (`missing`) before the test runs: the reason
 * outside CI, false in CI so that the test runs and fails. */
export function skipUnlessCI(missing: boolean, why: string): string | false {
  return missing && !inCI ? why : false;
}
