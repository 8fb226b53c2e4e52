/** An RTSP session of one of three kinds, told apart by `kind`: a viewer of a stored file
 * (`vod`), a viewer of a live stream (`live`), and a publisher pushing a live stream with RECORD
 * (`record`). What they share is in `session-base.ts`. */
import type { FileViewerSession } from './file-viewer-session.js';
import type { LiveViewerSession } from './live-viewer-session.js';
import type { PublisherSession } from './publisher-session.js';

export type RtspSession = FileViewerSession | LiveViewerSession | PublisherSession;

/** Sessions by id. A session that has closed (TEARDOWN, broadcast ended, connection lost) is
 * gone at once for every lookup, not only after the reaper's next sweep. */
export class SessionMap extends Map<string, RtspSession> {
  override get(id: string): RtspSession | undefined {
    const s = super.get(id);
    if (s?.closed) {
      super.delete(id);
      return undefined;
    }
    return s;
  }

  override has(id: string): boolean {
    return this.get(id) !== undefined;
  }
}
