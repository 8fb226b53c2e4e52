/** A relay leg's connection as Connected Users lists it (kind `relay`): from when it plays until
 * it lets go. Disconnecting it there drops the connection as if the far end had: the leg tries
 * again on its retry back-off. It leaves no access-log record: the session is this server's own,
 * and the far end's log has it. */
import type { ClientDirectory, ClientFigures, ClientInfo } from '../core/index.js';
import { stripUserInfo } from '../rtsp/client/index.js';

/** What a leg says about its connection. */
export interface ListedLegInit {
  /** The far end's URL (credentials are left out here). */
  target: string;
  /** The path relayed. */
  path: string;
  /** `rtsp`, `rtsps`, `rtp` (a UDP forward). */
  protocol: string;
  /** The far end's address (the host the URL names when the socket's is not known). */
  address: string;
  /** `TCP` or `UDP`. */
  transport: string;
  figures(): ClientFigures;
  /** Drops the connection, as the far end hanging up would. */
  drop(reason: string): void;
}

/** The scheme of a URL (`rtsp`, `rtsps`, `udp`), lower case; '' when it has none. */
export function schemeOf(url: string): string {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1].toLowerCase() ?? '';
}

/** The host a URL names, without the brackets of an IPv6 literal; '' when it names none. */
export function hostOf(url: string): string {
  try {
    return new URL(stripUserInfo(url)).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return '';
  }
}

export class ListedLeg {
  readonly #directory: ClientDirectory | undefined;
  readonly #id: string | undefined;

  /** Lists the leg in `directory` (none: nothing is listed). */
  constructor(directory: ClientDirectory | undefined, init: ListedLegInit) {
    this.#directory = directory;
    const info: ClientInfo = {
      kind: 'relay',
      protocol: init.protocol,
      address: init.address,
      url: stripUserInfo(init.target),
      path: init.path,
      transport: init.transport.toUpperCase(),
    };
    this.#id = directory?.add({ ...info, figures: () => init.figures(), close: (reason) => init.drop(reason) });
  }

  /** The connection is gone: no longer listed. Idempotent. */
  end(): void {
    this.#directory?.end(this.#id);
  }
}
