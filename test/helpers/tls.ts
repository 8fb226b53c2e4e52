/** A self-signed certificate for localhost made with openssl at test time. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run } from './run.js';

export async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return { cert, key };
}
