/** Reading a PEM certificate and key pair (tls.* for RTSPS, admin.tls for the admin), checked
 * as a usable pair before anything listens. */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** A file that cannot be read, or a pair that does not fit; the message names the keys. */
export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError';
}

/** The files `files.cert` and `files.key` name, as config keys `<prefix>.cert`/`<prefix>.key`. */
export function readTlsPair(files: { cert: string; key: string }, prefix: string): { cert: Buffer; key: Buffer } {
  const read = (key: 'cert' | 'key') => {
    try {
      return readFileSync(files[key]);
    } catch (e) {
      throw new TlsFilesError(`cannot read ${prefix}.${key} ${files[key]}: ${(e as Error).message}`);
    }
  };
  const pair = { cert: read('cert'), key: read('key') };
  try {
    createSecureContext(pair);
  } catch (e) {
    throw new TlsFilesError(`${prefix}.cert ${files.cert} and ${prefix}.key ${files.key} are not a usable certificate and key: ${(e as Error).message}`);
  }
  return pair;
}
