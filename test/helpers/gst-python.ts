/** Pieces shared by the tests' small Python GStreamer programs (run with /usr/bin/python3, which
 * has the GObject bindings). */

/** Defines `finish(pipeline, out)`: prints `out` as one JSON line first, then takes the pipeline
 * down and exits. Taking an rtspsrc pipeline to NULL can hang inside GStreamer now and then on a
 * loaded machine (its TEARDOWN and its threads), and the result must not be lost to that: a
 * watchdog ends the program 10 s into the teardown. Also defines `watchdog(secs, out)`: prints
 * `out` with `"hung": true` and exits if the main loop is still running after `secs`. */
export const GST_FINISH = String.raw`
import json as _json, os as _os, sys as _sys, threading as _threading
def _bail(out, code):
    _sys.stdout.write(_json.dumps(out) + '\n')
    _sys.stdout.flush()
    _os._exit(code)
def watchdog(secs, out):
    t = _threading.Timer(secs, lambda: _bail({**out, 'hung': True}, 3))
    t.daemon = True
    t.start()
def finish(pipeline, out):
    _sys.stdout.write(_json.dumps(out) + '\n')
    _sys.stdout.flush()
    t = _threading.Timer(10, lambda: (_sys.stderr.write('teardown hung; exiting\n'), _sys.stderr.flush(), _os._exit(0)))
    t.daemon = True
    t.start()
    pipeline.set_state(Gst.State.NULL)
    _os._exit(0)
`;
