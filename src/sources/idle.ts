/** Sources started on demand stop themselves when nobody watches: the stream ends once it has
 * had no reader for `seconds`, checked once a second (so between `seconds` and a second more
 * after the last one left, never sooner). */
import type { Stream } from '../core/stream.js';

/** Ends `stream` after `seconds` without readers; undefined seconds: it runs until closed.
 * Returns the timer for the source to clear when it closes. */
export function endWhenUnwatched(stream: Stream, seconds: number | undefined): NodeJS.Timeout | undefined {
  if (seconds === undefined) return undefined;
  // Counted from the first check that finds nobody: a viewer who came and went between two
  // checks left after the one before it, so the idle time is never cut short.
  let emptySince: number | undefined;
  const timer = setInterval(() => {
    if (stream.readers.size > 0) emptySince = undefined;
    else if (emptySince === undefined) emptySince = Date.now();
    else if (Date.now() - emptySince >= seconds * 1000) stream.end('no viewers');
  }, 1000);
  timer.unref();
  return timer;
}
