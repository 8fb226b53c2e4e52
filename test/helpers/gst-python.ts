/** Pieces shared by the tests' small Python GStreamer programs (run with /usr/bin/python3, which
 * has the GObject bindings). */

/** Defines `finish(pipeline, out)`: prints `out` as one JSON line first, then takes the pipeline
 * down and exits. Taking an rtspsrc pipeline to NULL can hang inside GStreamer now and then on a
 * loaded machine (its TEARDOWN and its threads), and the result must not be lost to that: a
 * watchdog ends the program 10 s into the teardown. Also defines `watchdog(secs, out)`: prints
 * `out` with `"hung": true` and exits if the main loop is still running after `secs`; and
 * `play(pipeline, secs, end)`: plays the pipeline until EOS (then `end['eos']` is true), an error
 * (`end['error']`), SIGTERM or `secs`, under a watchdog 30 s past that. */
export const GST_FINISH = String.raw`
import json as _json, os as _os, signal as _signal, sys as _sys, threading as _threading
def _bail(out, code):
    _sys.stdout.write(_json.dumps(out) + '\n')
    _sys.stdout.flush()
    _os._exit(code)
def watchdog(secs, out):
    t = _threading.Timer(secs, lambda: _bail({**out, 'hung': True}, 3))
    t.daemon = True
    t.start()
def play(pipeline, secs, end):
    loop = GLib.MainLoop()
    def on_msg(_bus, msg):
        if msg.type == Gst.MessageType.EOS:
            end['eos'] = True
            loop.quit()
        elif msg.type == Gst.MessageType.ERROR:
            end['error'] = str(msg.parse_error()[0])
            loop.quit()
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_msg)
    GLib.timeout_add(int(secs * 1000), loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, _signal.SIGTERM, loop.quit)
    watchdog(secs + 30, end)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
def finish(pipeline, out):
    _sys.stdout.write(_json.dumps(out) + '\n')
    _sys.stdout.flush()
    t = _threading.Timer(10, lambda: (_sys.stderr.write('teardown hung; exiting\n'), _sys.stderr.flush(), _os._exit(0)))
    t.daemon = True
    t.start()
    pipeline.set_state(Gst.State.NULL)
    _os._exit(0)
`;
