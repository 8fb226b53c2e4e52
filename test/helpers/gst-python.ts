/** Pieces shared by the tests' small Python GStreamer programs (run with /usr/bin/python3, which
 * has the GObject bindings). */

/** Defines `finish(pipeline, out)`: prints `out` as one JSON line first, then takes the pipeline
 * down and exits. Taking an rtspsrc pipeline to NULL can hang inside GStreamer now and then on a
 * loaded machine (its TEARDOWN and its threads), and the result must not be lost to that: a
 * watchdog ends the program 10 s into the teardown. Also defines `watchdog(secs, out)`: prints
 * `out` with `"hung": true` and exits if the main loop is still running after `secs`; and
 * `play(pipeline, secs, end)`: plays the pipeline until EOS (then `end['eos']` is true), an error
 * (`end['error']`), SIGTERM, SIGINT or `secs`, under a watchdog 30 s past that. */
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
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, _signal.SIGINT, loop.quit)
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

/** Defines `link_by_media(src, sinks)`: links each pad rtspsrc adds to `sinks[media]` (a sink
 * pad; media from the pad's caps, "video" or "audio"), any other pad (a second stream of a media,
 * an unknown one) to a fakesink of its own, and records in `unlinked` (a list) the pads that
 * could not be linked. Instead of gst-launch's delayed links (`src. ! application/x-rtp,media=video
 * ! ...`): rtspsrc adds its pads from two streaming threads at once, and a delayed link tried
 * for one pad holds the element after the caps filter while it fails, so the link for the other
 * pad can fail too and is not tried again. Measured: six viewers at once on a busy machine, the
 * video pad was left unlinked once in about 400 starts. That stream then stops after its first
 * packet (not-linked) with no error from the pipeline while the audio plays on, which looks like
 * a server that stopped sending to one viewer. */
export const GST_LINK_BY_MEDIA = String.raw`
unlinked = []
def link_by_media(src, sinks):
    def on_pad(_src, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        media = caps.get_structure(0).get_string('media') if caps and caps.get_size() > 0 else None
        sink = sinks.get(media)
        if sink is None or sink.is_linked():
            extra = Gst.ElementFactory.make('fakesink', None)
            extra.set_property('sync', False)
            src.get_parent().add(extra)
            extra.sync_state_with_parent()
            sink = extra.get_static_pad('sink')
        if pad.link(sink) != Gst.PadLinkReturn.OK:
            unlinked.append(pad.get_name())
    src.connect('pad-added', on_pad)
`;

/** The start of every such program: json, sys, Gst and GLib imported, GStreamer initialised,
 * GST_FINISH and GST_LINK_BY_MEDIA defined. */
export const GST_PRELUDE = String.raw`
import json, sys, time, gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst, GLib
Gst.init(None)
${GST_FINISH}
${GST_LINK_BY_MEDIA}
`;
