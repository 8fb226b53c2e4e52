/** Sources started on demand stop themselves when nobody watches: the stream ends after
 * `seconds` without a reader, checked once a second. */
import type { Stream } from '../core/stream.js';

/** Ends `stream` after `seconds` without readers; undefined seconds: it runs until closed.
 * Returns the timer for the source to clear when it closes. */
export function endWhenUnwatched(stream: Stream, seconds: number | undefined): NodeJS.Timeout | undefined {
  if (seconds === undefined) return undefined;
  let lastViewer = Date.now();
  const timer = setInterval(() => {
    if (stream.readers.size > 0) lastViewer = Date.now();
    else if (Date.now() - lastViewer > seconds * 1000) stream.end('no viewers');
  }, 1000);
  timer.unref();
  return timer;
}
