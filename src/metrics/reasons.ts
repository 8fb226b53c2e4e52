/** Refusals and auth failures sorted into a few reason classes, so the refusal counters have a
 * bounded set of label values however varied the messages (which may quote a client's path). */

/** The refusal of a `session.refused` event: `busy` (412, the path is being broadcast by
 * another), the limits key named in the message when it is one of `limitKeys` (453 over
 * limits.maxConnections → `maxConnections`), `resources` (another 453: ports, channels), or
 * `other`. */
export function refusalReason(status: number, message: string, limitKeys: ReadonlySet<string>): string {
  if (status === 412) return 'busy';
  const key = /limits\.([A-Za-z]+)/.exec(message)?.[1];
  if (key !== undefined && limitKeys.has(key)) return key;
  return status === 453 ? 'resources' : 'other';
}

/** The Authorizer's refusal messages (src/auth/authorizer.ts), first match wins; anchored at
 * the ends, since the middle may quote the path asked for. */
const AUTH_CLASSES: readonly [RegExp, 401 | 403, string][] = [
  [/^authentication failed:/, 401, 'bad-credentials'],
  [/^too many failed logins/, 401, 'throttled'],
  [/^nonce /, 401, 'stale-nonce'],
  [/ credentials (are not understood|where \w+ is used)$/, 401, 'wrong-scheme'],
  [/ and auth\.scheme is none$/, 403, 'forbidden'],
  [/(needs a login|without a login)$/, 401, 'no-credentials'],
];

/** An `auth.failed` event's status (its own when it carries one) and reason class; anything
 * not a challenge is a 403 `forbidden`. */
export function authFailure(e: { reason: string; status?: number }): { status: number; reason: string } {
  for (const [re, status, reason] of AUTH_CLASSES) if (re.test(e.reason)) return { status: e.status ?? status, reason };
  return { status: e.status ?? 403, reason: 'forbidden' };
}

/** A label value from a short word (a protocol, kind or transport named by code), else `other`. */
export function word(value: string): string {
  return /^[A-Za-z0-9._/+-]{1,32}$/.test(value) ? value : 'other';
}

/** A status label from an RTSP/HTTP status number, else `other`. */
export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';
}
