/** The client side of Basic/Digest: answers a server's WWW-Authenticate challenge (for pulling
 * from protected servers, and for tests that speak RTSP by hand). */
import { randomBytes } from 'node:crypto';
import { parseAuthParams, quote } from './authorization-header.js';
import { digestAlgorithm, digestResponse } from './digest.js';
import { ha1Md5, ha1Sha256 } from './users-file.js';

export interface ChallengeAnswer {
  user: string;
  password: string;
  method: string;
  uri: string;
  /** Use qop=auth when the server offers it (default true). */
  qop?: boolean;
  /** Request counter (default 1). */
  nc?: number;
  cnonce?: string;
}

/** The Authorization value answering one WWW-Authenticate challenge. Throws on a challenge it
 * cannot answer (unknown scheme or algorithm). */
export function answerChallenge(challenge: string, a: ChallengeAnswer): string {
  const m = /^(\S+)\s*(.*)$/s.exec(challenge.trim());
  const scheme = m?.[1].toLowerCase();
  if (scheme === 'basic') return `Basic ${Buffer.from(`${a.user}:${a.password}`).toString('base64')}`;
  if (scheme !== 'digest') throw new Error(`cannot answer a ${m?.[1] ?? 'empty'} challenge`);
  const p = parseAuthParams(m![2], 'WWW-Authenticate');
  const realm = p.get('realm') ?? '';
  const nonce = p.get('nonce') ?? '';
  const algorithm = digestAlgorithm(p.get('algorithm'));
  if (!algorithm) throw new Error(`unsupported algorithm ${p.get('algorithm')}`);
  const ha1 = (algorithm === 'MD5' ? ha1Md5 : ha1Sha256)(a.user, realm, a.password);
  const offered = (p.get('qop') ?? '').split(',').map((s) => s.trim());
  const useQop = (a.qop ?? true) && offered.includes('auth');
  let v = `Digest username=${quote(a.user)}, realm=${quote(realm)}, nonce=${quote(nonce)}, uri=${quote(a.uri)}`;
  if (p.has('algorithm')) v += `, algorithm=${algorithm}`;
  if (useQop) {
    const nc = (a.nc ?? 1).toString(16).padStart(8, '0');
    const cnonce = a.cnonce ?? randomBytes(8).toString('hex');
    const response = digestResponse({
      algorithm,
      ha1,
      method: a.method,
      uri: a.uri,
      nonce,
      qop: 'auth',
      nc,
      cnonce,
    });
    v += `, response="${response}", qop=auth, nc=${nc}, cnonce=${quote(cnonce)}`;
  } else {
    v += `, response="${digestResponse({ algorithm, ha1, method: a.method, uri: a.uri, nonce })}"`;
  }
  const opaque = p.get('opaque');
  if (opaque !== undefined) v += `, opaque=${quote(opaque)}`;
  return v;
}
