/** QuickTime's reliable UDP (DSS "Skip Protection", issue 16) with a scripted client: DESCRIBE
 * offers it (`x-Accept-Retransmit`), a SETUP with `x-Retransmit` has it echoed, and the client
 * acknowledges what it gets in RTCP APP `qtak` packets. A client that "loses" some packets (drops
 * them on arrival, acknowledges the rest) gets each of them again, the same packet (sequence
 * number and payload), and ends up with every packet of the file, byte for byte what a plain play
 * gives. A client that acknowledges everything is sent nothing twice; a client that did not ask
 * gets no echo and nothing twice; garbage APP packets change nothing. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp, buildQtAck, compound, parseRtcpCompound } from '../../src/rtcp/index.js';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { waitActive } from '../helpers/live.js';
import { makeClip } from '../helpers/media.js';
import { ffmpegPublish } from '../helpers/publish.js';
import { RawRtspClient, sleep, udpReceiver, until, type UdpReceiver } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const CLIP = 'rudp.mp4';
const CLIP_S = 4;
const TRACKS = [1, 2];
const X_RETRANSMIT = 'our-retransmit;window=128';

interface TrackRx {
  rx: UdpReceiver;
  serverRtcp: number;
  ssrc: number;
  firstSeq: number;
  /** Payload (header included) of each packet kept, by sequence number. */
  got: Map<number, Buffer>;
  /** Sequence numbers dropped on their first arrival ("lost"). */
  dropped: Set<number>;
  /** Arrivals of a sequence number already kept (sent twice). */
  duplicates: number;
  /** Arrivals of a dropped packet again. */
  resentSeen: number;
  pendingAcks: number[];
  bye: boolean;
}

interface PlayOpts {
  /** Send `x-Retransmit` in SETUP. */
  reliable: boolean;
  /** Drop the packet arriving n-th (from 0) the first time it comes. */
  drop?: (n: number) => boolean;
  /** Acknowledge what is kept. */
  ack: boolean;
  /** Send garbage RTCP APP packets to the server while playing. */
  garbage?: boolean;
}

interface PlayResult {
  describeAccept: string | undefined;
  echoes: (string | undefined)[];
  tracks: TrackRx[];
}

/** Acks of the pending sequence numbers: each starts at one and covers the pending ones within
 * the 64 after it by its mask. */
function acksFor(t: TrackRx): Buffer[] {
  const pending = new Set(t.pendingAcks.splice(0));
  const out: Buffer[] = [];
  for (const seq of [...pending].sort((a, b) => ((a - t.firstSeq) & 0xffff) - ((b - t.firstSeq) & 0xffff))) {
    if (!pending.has(seq)) continue;
    pending.delete(seq);
    const mask = Array.from({ length: 64 }, (_, i) => pending.delete((seq + 1 + i) & 0xffff));
    out.push(buildQtAck({ ssrc: 0x5eed, mediaSsrc: t.ssrc, seq, mask }));
  }
  return out;
}

function garbage(ssrc: number): Buffer[] {
  return [
    Buffer.from([0x80, 204, 0, 2, 1, 2, 3, 4, 0x71, 0x74, 0x61, 0x6b]), // qtak without data
    Buffer.from([0x80, 204, 0, 9, 1, 2, 3, 4, 0x71, 0x74, 0x61, 0x6b, 0, 0]), // length past the end
    buildApp({ ssrc: 1, subtype: 31, name: 'qtak', data: Buffer.alloc(4) }),
    buildQtAck({ ssrc: 1, mediaSsrc: (ssrc + 1) >>> 0, seq: 0, mask: new Array<boolean>(4096).fill(true) }),
    Buffer.from('not rtcp at all, just text'),
    compound(buildApp({ ssrc: 1, subtype: 0, name: 'ack ', data: Buffer.alloc(4, 0xff) }), buildApp({ ssrc: 1, subtype: 0, name: 'QTSS', data: Buffer.alloc(8) })),
  ];
}

/** SETUPs every control URL of `controls` over UDP (with `x-Retransmit` when `o.reliable`), each
 * track's receiver dropping, keeping and acknowledging as `o` says; the session, the echoes, the
 * tracks, and a timer sending the acknowledgements (and garbage) every 20 ms. */
async function setUp(c: RawRtspClient, controls: string[], o: PlayOpts): Promise<{ session: string; echoes: (string | undefined)[]; tracks: TrackRx[]; ackTimer: NodeJS.Timeout }> {
  const tracks: TrackRx[] = [];
  const echoes: (string | undefined)[] = [];
  let session = '';
  let arrivals = 0;
  for (const control of controls) {
    const rx = await udpReceiver();
    rx.rtp.setRecvBufferSize(4 << 20);
    const r = await c.request('SETUP', control, {
      Transport: `RTP/AVP;unicast;client_port=${rx.rtpPort}-${rx.rtpPort + 1}`,
      ...(o.reliable ? { 'x-Retransmit': X_RETRANSMIT } : {}),
      ...(session ? { Session: session } : {}),
    });
    assert.equal(r.status, 200, `SETUP ${control}`);
    session = (r.headers.get('session') ?? '').split(';')[0];
    echoes.push(r.headers.get('x-retransmit'));
    const tr = r.headers.get('transport') ?? '';
    const t: TrackRx = {
      rx,
      serverRtcp: Number(/server_port=\d+-(\d+)/.exec(tr)?.[1]),
      ssrc: Number.parseInt(/ssrc=([0-9a-fA-F]+)/.exec(tr)?.[1] ?? '0', 16) >>> 0,
      firstSeq: 0,
      got: new Map(),
      dropped: new Set(),
      duplicates: 0,
      resentSeen: 0,
      pendingAcks: [],
      bye: false,
    };
    rx.rtp.on('message', (m) => {
      const h = readRtpHeader(m);
      if (!h || (t.ssrc !== 0 && h.ssrc !== t.ssrc)) return;
      const seq = h.sequence;
      // A live viewer's first packet (a file's is RTP-Info's seq, set at PLAY).
      if (t.got.size === 0 && t.dropped.size === 0) t.firstSeq = seq;
      if (t.got.has(seq)) {
        t.duplicates++;
        return;
      }
      if (t.dropped.has(seq)) t.resentSeen++;
      else if (o.drop?.(arrivals++)) {
        t.dropped.add(seq);
        return;
      }
      t.got.set(seq, Buffer.from(m));
      t.pendingAcks.push(seq);
    });
    rx.rtcp.on('message', (m) => {
      if (parseRtcpCompound(m).some((p) => p.type === 'bye')) t.bye = true;
    });
    tracks.push(t);
  }
  const ackTimer = setInterval(() => {
    for (const t of tracks) {
      const acks = o.ack ? acksFor(t) : [];
      if (o.garbage) for (const g of garbage(t.ssrc)) t.rx.rtcp.send(g, t.serverRtcp, '127.0.0.1');
      if (acks.length > 0) t.rx.rtcp.send(compound(...acks), t.serverRtcp, '127.0.0.1');
    }
  }, 20);
  return { session, echoes, tracks, ackTimer };
}

async function play(srv: TestServer, o: PlayOpts): Promise<PlayResult> {
  const c = await RawRtspClient.connect(srv.port);
  const url = srv.url(CLIP);
  const tracks: TrackRx[] = [];
  try {
    const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
    assert.equal(d.status, 200);
    const set = await setUp(c, TRACKS.map((id) => `${url}/trackID=${id}`), o);
    const { session, echoes, ackTimer } = set;
    tracks.push(...set.tracks);
    try {
      const p = await c.request('PLAY', url, { Session: session, Range: 'npt=0-' });
      assert.equal(p.status, 200);
      const info = p.headers.get('rtp-info') ?? '';
      for (const [i, id] of TRACKS.entries()) {
        tracks[i].firstSeq = Number(new RegExp(`trackID=${id};seq=(\\d+)`).exec(info)?.[1]);
        assert.ok(Number.isInteger(tracks[i].firstSeq), `RTP-Info seq of track ${id}: ${info}`);
      }
      assert.ok(await until(() => tracks.every((t) => t.bye), 60_000, 50), 'the file played to its end (BYE on every track)');
      // Everything dropped comes back (or, without reliable UDP, nothing: wait past the timeouts).
      if (o.reliable && o.ack) assert.ok(await until(() => tracks.every((t) => [...t.dropped].every((s) => t.got.has(s))), 30_000, 50), 'every dropped packet came again');
      else await new Promise((r) => setTimeout(r, 1500));
      // Acks of the last packets go out before the session ends.
      await new Promise((r) => setTimeout(r, 100));
      const opts = await c.request('OPTIONS', url);
      assert.equal(opts.status, 200, 'the server still answers');
      await c.request('TEARDOWN', url, { Session: session });
    } finally {
      clearInterval(ackTimer);
    }
    return { describeAccept: d.headers.get('x-accept-retransmit'), echoes, tracks };
  } finally {
    c.close();
    for (const t of tracks) t.rx.close();
  }
}

/** The packets of a track from its first, in order, as received: payload and header (the SSRC,
 * sequence number and timestamp zeroed, being each session's own). */
function stream(t: TrackRx): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; ; i++) {
    const p = t.got.get((t.firstSeq + i) & 0xffff);
    if (!p) return out;
    const b = Buffer.from(p);
    b.fill(0, 2, 12);
    out.push(b);
  }
}

describe('QuickTime reliable UDP (x-Retransmit, qtak acks)', () => {
  let srv: TestServer;
  const media = tempDir('rivulet-rudp-');
  let reference: Buffer[][];

  before(async () => {
    await makeClip(media.dir, { name: CLIP, video: 'testsrc', hz: 440, seconds: CLIP_S });
    srv = await startServer({ mediaDir: media.dir });
    // A plain play over loopback: what every viewer must end up with.
    const plain = await play(srv, { reliable: false, ack: false });
    reference = plain.tracks.map(stream);
    for (const [i, t] of plain.tracks.entries()) {
      assert.ok(reference[i].length > 20, `track ${TRACKS[i]}: ${reference[i].length} packets`);
      assert.equal(reference[i].length, t.got.size, 'the plain play lost nothing on loopback');
    }
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  it('a client that loses every 7th packet gets each again, the same packet, and ends with the whole file', async () => {
    const r = await play(srv, { reliable: true, ack: true, drop: (n) => n % 7 === 3, garbage: true });
    assert.equal(r.describeAccept, 'our-retransmit');
    assert.deepEqual(r.echoes, [X_RETRANSMIT, X_RETRANSMIT]);
    let dropped = 0;
    for (const [i, t] of r.tracks.entries()) {
      dropped += t.dropped.size;
      assert.ok(t.resentSeen >= t.dropped.size, `track ${TRACKS[i]}: ${t.resentSeen} resends seen for ${t.dropped.size} dropped`);
      assert.deepEqual(stream(t), reference[i], `track ${TRACKS[i]}: every packet, byte for byte as a plain play`);
    }
    assert.ok(dropped > 10, `${dropped} packets dropped`);
    const line = await logLine(srv, (l) => l.resent > 0);
    assert.ok(line, 'the session logged its reliable UDP counts');
    console.log(`reliable udp: ${dropped} dropped; server said ${JSON.stringify(line)}`);
  });

  it('a client that acknowledges everything is sent nothing twice', async () => {
    const r = await play(srv, { reliable: true, ack: true });
    assert.deepEqual(r.echoes, [X_RETRANSMIT, X_RETRANSMIT]);
    for (const [i, t] of r.tracks.entries()) {
      assert.equal(t.duplicates, 0, `track ${TRACKS[i]}: nothing sent twice`);
      assert.deepEqual(stream(t), reference[i]);
    }
  });

  it('a viewer of a live stream: its lost packets come again too, the shared packets of the broadcast', async () => {
    const path = 'live/rudp';
    const url = srv.url(path);
    const pub = ffmpegPublish(join(media.dir, CLIP), url, 'tcp');
    const c = await RawRtspClient.connect(srv.port);
    let set: Awaited<ReturnType<typeof setUp>> | undefined;
    try {
      await waitActive(srv, path);
      const d = await c.request('DESCRIBE', url);
      assert.equal(d.status, 200);
      assert.equal(d.headers.get('x-accept-retransmit'), 'our-retransmit');
      const controls = d.body
        .split(/^m=/m)
        .slice(1)
        .map((m) => /^a=control:(\S+)/m.exec(m)?.[1] ?? '')
        .map((ctl) => (ctl.startsWith('rtsp://') ? ctl : `${url}/${ctl}`));
      assert.equal(controls.length, 2, d.body);
      let dropping = true;
      set = await setUp(c, controls, { reliable: true, ack: true, drop: (n) => dropping && n % 7 === 3 });
      assert.deepEqual(set.echoes, [X_RETRANSMIT, X_RETRANSMIT]);
      const p = await c.request('PLAY', url, { Session: set.session });
      assert.equal(p.status, 200);
      await sleep(4000);
      dropping = false;
      const tracks = set.tracks;
      assert.ok(await until(() => tracks.every((t) => [...t.dropped].every((seq) => t.got.has(seq))), 15_000, 50), 'every dropped packet came again');
      let dropped = 0;
      for (const [i, t] of tracks.entries()) {
        dropped += t.dropped.size;
        assert.ok(t.got.size > 20, `track ${i}: ${t.got.size} packets`);
        assert.ok(t.resentSeen >= t.dropped.size, `track ${i}: ${t.resentSeen} resends seen for ${t.dropped.size} dropped`);
        // Every packet from the first one on, none missing (the last few may still be on their way).
        assert.ok(stream(t).length >= t.got.size - 5, `track ${i}: ${stream(t).length} in sequence of ${t.got.size}`);
      }
      assert.ok(dropped > 10, `${dropped} packets dropped`);
      await c.request('TEARDOWN', url, { Session: set.session });
      console.log(`reliable udp, live: ${dropped} dropped, all sent again`);
    } finally {
      if (set) clearInterval(set.ackTimer);
      for (const t of set?.tracks ?? []) t.rx.close();
      c.close();
      await pub.stop();
    }
  });

  it('a client without x-Retransmit gets no echo, and what it loses stays lost', async () => {
    const r = await play(srv, { reliable: false, ack: true, drop: (n) => n % 7 === 3 });
    assert.deepEqual(r.echoes, [undefined, undefined]);
    for (const t of r.tracks) {
      assert.ok(t.dropped.size > 0);
      assert.equal(t.resentSeen + t.duplicates, 0, 'nothing sent again');
    }
  });
});

/** The figures of the last `reliable udp` log line (`key=value` numbers) that `pred` accepts,
 * waiting a little for it. */
async function logLine(srv: TestServer, pred: (l: Record<string, number>) => boolean): Promise<Record<string, number> | undefined> {
  let found: Record<string, number> | undefined;
  await until(() => {
    for (const l of srv.logs) {
      if (!l.includes('reliable udp')) continue;
      const o = Object.fromEntries([...l.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
      if (pred(o)) found = o;
    }
    return found !== undefined;
  }, 5000, 50);
  return found;
}
