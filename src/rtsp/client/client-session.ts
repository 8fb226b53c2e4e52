/** What a pulled and a pushed session show alike: the session id, how it ended, its connection,
 * `close()`; and listeners that cannot throw into the I/O loop. */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../logging/index.js';
import { silentLogger } from '../../logging/index.js';
import type { RtspClientConnection } from './connection.js';
import { CLIENT_DEFAULTS } from './defaults.js';
import { RtspClientError } from './errors.js';
import { SessionControl, type SessionEndReason } from './session-control.js';
import type { SessionOptions } from './setup.js';

export interface ClientSessionEvents {
  /** Once. */
  end: [reason: SessionEndReason, error: RtspClientError | undefined];
}

export abstract class ClientSession<E extends ClientSessionEvents & Record<keyof E, unknown[]>> extends EventEmitter<E> {
  protected readonly control: SessionControl;
  protected readonly log: Logger;
  #endReason: SessionEndReason | undefined;
  #endError: RtspClientError | undefined;

  protected constructor(
    conn: RtspClientConnection,
    /** The aggregate URL (PLAY/RECORD, keepalives, TEARDOWN). */
    controlUrl: string,
    /** What OPTIONS' Public listed, when it was asked. */
    publicMethods: ReadonlySet<string> | undefined,
    options: SessionOptions,
  ) {
    super();
    this.log = options.log ?? silentLogger();
    this.control = new SessionControl(conn, controlUrl, publicMethods, {
      log: this.log,
      teardownTimeoutMs: options.teardownTimeoutMs ?? CLIENT_DEFAULTS.teardownTimeoutMs,
      onEnd: (reason, error) => {
        this.#endReason = reason;
        this.#endError = error;
        this.#emit('end', [reason, error]);
      },
    });
  }

  /** The session id the server gave. */
  get sessionId(): string | undefined {
    return this.control.id;
  }

  get ended(): boolean {
    return this.control.ended;
  }

  /** Why the session ended, once it has. */
  get endReason(): SessionEndReason | undefined {
    return this.#endReason;
  }

  /** What ended it, when it was a failure. */
  get endError(): RtspClientError | undefined {
    return this.#endError;
  }

  /** The RTSP connection (its counts: stray responses, dropped frames). */
  get connection(): RtspClientConnection {
    return this.control.conn;
  }

  /** TEARDOWN and release everything; 'end' with 'teardown' unless it had ended. Idempotent. */
  close(): Promise<void> {
    return this.control.close();
  }

  /** Runs the requests that follow the connection's opening; a failure ends the session
   * (releasing everything) and is thrown on. */
  protected async settle(steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (e) {
      this.control.end('error', e instanceof RtspClientError ? e : undefined);
      throw e;
    }
  }

  /** Emits without letting a listener's exception escape into the I/O loop. */
  protected emitSafely<K extends keyof E & string>(event: K, ...args: E[K]): void {
    this.#emit(event, args);
  }

  #emit(event: string, args: readonly unknown[]): void {
    try {
      EventEmitter.prototype.emit.call(this, event, ...args);
    } catch (e) {
      this.log.error({ err: e, url: this.control.conn.url.display }, `RTSP client: a '${event}' listener failed`);
    }
  }
}
