/** An RTSP publisher (ANNOUNCE, SETUP mode=record, RECORD) as the core sees it: a `Source` feeding
 * one stream. The session receives the packets (UDP ports or interleaved channels) and writes them
 * into the stream's tracks; closing the source (takeover, publisher timeout, the stream ending)
 * ends the session. */
import type { Source } from '../../core/source.js';
import { stripMapped } from './transport-setup.js';
import type { PublisherSession } from './publisher-session.js';

export class RtspRecordSource implements Source {
  readonly kind = 'rtsp-record';
  readonly label: string;
  readonly hops: readonly string[];
  readonly #session: PublisherSession;
  readonly #forget: (session: PublisherSession) => void;

  /** `forget` takes the closed session out of the server's session list; `hops`: the relays the
   * ANNOUNCE came through (its Via, parsed by the handler), which this server's pushes of the
   * stream name before itself. */
  constructor(session: PublisherSession, clientAddress: string, forget: (session: PublisherSession) => void, hops: readonly string[] = []) {
    this.#session = session;
    this.#forget = forget;
    this.label = `rtsp ${stripMapped(clientAddress)}`;
    this.hops = hops;
  }

  close(reason: string): void {
    this.#session.close(reason);
    this.#forget(this.#session);
  }
}
