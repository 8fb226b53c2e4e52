/** Rivulet's version, from package.json. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function rivuletVersion(): string {
  if (cached) return cached;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    cached = pkg.version;
  } catch {
    cached = 'unknown';
  }
  return cached;
}
