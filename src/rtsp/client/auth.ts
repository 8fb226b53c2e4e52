/** The client's side of RTSP authentication: picks the strongest challenge a 401 offers (Digest
 * SHA-256, then Digest MD5, then Basic), answers it with the shared auth codec, and keeps
 * answering later requests on the same connection without waiting for another 401 (Digest's nc
 * counting up, as servers that refuse replays expect). */
import { answerChallenge, parseAuthParams } from '../../auth/index.js';
import { HeaderError } from '../../net/index.js';
import { RtspClientError } from './errors.js';

export interface ClientCredentials {
  user: string;
  password: string;
}

/** One challenge the client can answer. */
export interface PickedChallenge {
  /** The WWW-Authenticate value. */
  challenge: string;
  scheme: 'basic' | 'digest';
  /** Digest's `stale=true`: the nonce expired, the credentials were right. */
  stale: boolean;
}

/** Higher answers first. */
function rank(challenge: string): { rank: number; picked: PickedChallenge } | undefined {
  const m = /^(\S+)\s*(.*)$/s.exec(challenge.trim());
  const scheme = m?.[1].toLowerCase();
  if (scheme === 'basic') return { rank: 1, picked: { challenge, scheme: 'basic', stale: false } };
  if (scheme !== 'digest') return undefined;
  let params: Map<string, string>;
  try {
    params = parseAuthParams(m![2], 'WWW-Authenticate');
  } catch (e) {
    if (e instanceof HeaderError) return undefined;
    throw e;
  }
  const algorithm = (params.get('algorithm') ?? 'MD5').toUpperCase();
  if (!params.has('nonce') || (algorithm !== 'MD5' && algorithm !== 'SHA-256')) return undefined;
  const stale = params.get('stale')?.toLowerCase() === 'true';
  return { rank: algorithm === 'SHA-256' ? 3 : 2, picked: { challenge, scheme: 'digest', stale } };
}

export class ClientAuth {
  #picked: PickedChallenge | undefined;
  #nc = 0;

  constructor(
    readonly credentials: ClientCredentials | undefined,
    /** The URL for messages (no password). */
    readonly display: string,
  ) {}

  /** The Authorization value for a request, once a challenge has been answered on this
   * connection; undefined before. */
  authorization(method: string, uri: string): string | undefined {
    if (this.#picked === undefined || this.credentials === undefined) return undefined;
    const { user, password } = this.credentials;
    return answerChallenge(this.#picked.challenge, { user, password, method, uri, nc: ++this.#nc });
  }

  /** The challenge to answer among a 401's WWW-Authenticate values. Throws RtspClientError
   * ('auth') when there are no credentials or no challenge the client speaks. */
  pick(challenges: readonly string[]): PickedChallenge {
    if (this.credentials === undefined)
      throw new RtspClientError('auth', `${this.display} needs credentials (401 Unauthorized)`, 401);
    let best: { rank: number; picked: PickedChallenge } | undefined;
    for (const c of challenges) {
      const r = rank(c);
      if (r !== undefined && (best === undefined || r.rank > best.rank)) best = r;
    }
    if (best === undefined) {
      const offered = challenges.map((c) => c.trim().split(/\s/)[0]).filter((s) => s !== '');
      throw new RtspClientError(
        'auth',
        `${this.display} asks for credentials in a way the client cannot answer (${offered.length === 0 ? 'no challenge' : offered.join(', ')})`,
        401,
      );
    }
    return best.picked;
  }

  /** Answers `picked` from now on (a new nonce starts its count again). */
  use(picked: PickedChallenge): void {
    this.#picked = picked;
    this.#nc = 0;
  }

  /** The error for credentials the server refused. */
  refused(): RtspClientError {
    const user = this.credentials?.user ?? '';
    return new RtspClientError('auth', `wrong credentials for user ${JSON.stringify(user)} at ${this.display} (401 Unauthorized)`, 401);
  }
}
