/** Hint-track replay checked packet by packet: what Rivulet sends over TCP interleaved for a hinted
 * movie against what an independent reading of the file's hint samples predicts. The reader here
 * is written from ISO/IEC 14496-12 (box layout, sample tables, §9.1 RTP hint tracks) and shares
 * no code with Rivulet's MP4 reader or hint parser. As a further check, the predicted (and sent)
 * payloads are depacketized and must give back the media samples the hints were made from. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mediaDirWith } from '../helpers/media.js';
import { RawRtspClient, until } from '../helpers/rtsp-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

// ---- an independent MP4 + hint reader -------------------------------------------------------

interface Box {
  type: string;
  body: number;
  end: number;
}

function boxes(f: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  for (let p = start; p + 8 <= end;) {
    let size = f.readUInt32BE(p);
    let body = p + 8;
    if (size === 1) {
      size = Number(f.readBigUInt64BE(p + 8));
      body = p + 16;
    } else if (size === 0) size = end - p;
    out.push({ type: f.toString('latin1', p + 4, p + 8), body, end: p + size });
    p += size;
  }
  return out;
}
function child(f: Buffer, parent: Box, ...path: string[]): Box | undefined {
  let cur: Box | undefined = parent;
  for (const t of path) cur = cur && boxes(f, cur.body, cur.end).find((b) => b.type === t);
  return cur;
}

interface Samples {
  offset: number[];
  size: number[];
  dts: number[];
}

interface Trak {
  id: number;
  handler: string;
  timescale: number;
  editMediaTime: number;
  hintRefs: number[];
  samples: Samples;
  /** 'rtp ' entry 'tims', hint tracks only. */
  tims: number;
}

function readTrak(f: Buffer, trak: Box): Trak {
  const tkhd = child(f, trak, 'tkhd')!;
  const id = f.readUInt32BE(tkhd.body + (f[tkhd.body] === 1 ? 20 : 12));
  const mdhd = child(f, trak, 'mdia', 'mdhd')!;
  const timescale = f.readUInt32BE(mdhd.body + (f[mdhd.body] === 1 ? 20 : 12));
  const handler = f.toString(
    'latin1',
    child(f, trak, 'mdia', 'hdlr')!.body + 8,
    child(f, trak, 'mdia', 'hdlr')!.body + 12,
  );
  const elst = child(f, trak, 'edts', 'elst');
  let editMediaTime = 0;
  if (elst) {
    const v1 = f[elst.body] === 1;
    editMediaTime = v1 ? Number(f.readBigInt64BE(elst.body + 8 + 8)) : f.readInt32BE(elst.body + 8 + 4);
  }
  const tref = child(f, trak, 'tref', 'hint');
  const hintRefs: number[] = [];
  if (tref) for (let p = tref.body; p + 4 <= tref.end; p += 4) hintRefs.push(f.readUInt32BE(p));

  const stbl = child(f, trak, 'mdia', 'minf', 'stbl')!;
  const get = (t: string) => child(f, stbl, t);
  const stsz = get('stsz')!;
  const constant = f.readUInt32BE(stsz.body + 4);
  const n = f.readUInt32BE(stsz.body + 8);
  const size = Array.from({ length: n }, (_, i) =>
    constant ? constant : f.readUInt32BE(stsz.body + 12 + 4 * i),
  );
  const co = get('stco') ?? get('co64')!;
  const wide = co.type === 'co64';
  const chunkCount = f.readUInt32BE(co.body + 4);
  const chunks = Array.from({ length: chunkCount }, (_, i) =>
    wide ? Number(f.readBigUInt64BE(co.body + 8 + 8 * i)) : f.readUInt32BE(co.body + 8 + 4 * i),
  );
  const stsc = get('stsc')!;
  const runs = Array.from({ length: f.readUInt32BE(stsc.body + 4) }, (_, i) => ({
    first: f.readUInt32BE(stsc.body + 8 + 12 * i),
    per: f.readUInt32BE(stsc.body + 12 + 12 * i),
  }));
  const offset: number[] = [];
  for (let c = 0, s = 0; c < chunkCount && s < n; c++) {
    const run = runs.filter((r) => r.first <= c + 1).pop()!;
    let p = chunks[c];
    for (let k = 0; k < run.per && s < n; k++, s++) {
      offset.push(p);
      p += size[s];
    }
  }
  const stts = get('stts')!;
  const dts: number[] = [];
  let t = 0;
  for (let i = 0, e = f.readUInt32BE(stts.body + 4); i < e; i++) {
    const count = f.readUInt32BE(stts.body + 8 + 8 * i);
    const delta = f.readUInt32BE(stts.body + 12 + 8 * i);
    for (let k = 0; k < count && dts.length < n; k++, t += delta) dts.push(t);
  }
  let tims = 0;
  if (handler === 'hint') {
    const stsd = get('stsd')!;
    const entry = boxes(f, stsd.body + 8, stsd.end)[0];
    // 'rtp ' entry body: 6 reserved, data reference index, versions (2+2), max packet size.
    for (const b of boxes(f, entry.body + 16, entry.end))
      if (b.type === 'tims') tims = f.readUInt32BE(b.body);
  }
  return { id, handler, timescale, editMediaTime, hintRefs, samples: { offset, size, dts }, tims };
}

interface Movie {
  file: Buffer;
  duration: number;
  tracks: Trak[];
}

function readMovie(path: string): Movie {
  const file = readFileSync(path);
  const moov = boxes(file, 0, file.length).find((b) => b.type === 'moov')!;
  const mvhd = child(file, moov, 'mvhd')!;
  const v1 = file[mvhd.body] === 1;
  const ts = file.readUInt32BE(mvhd.body + (v1 ? 20 : 12));
  const dur = v1 ? Number(file.readBigUInt64BE(mvhd.body + 24)) : file.readUInt32BE(mvhd.body + 16);
  const tracks = boxes(file, moov.body, moov.end)
    .filter((b) => b.type === 'trak')
    .map((b) => readTrak(file, b));
  return { file, duration: dur / ts, tracks };
}

function sampleBytes(m: Movie, t: Trak, number: number): Buffer {
  const i = number - 1;
  assert.ok(i >= 0 && i < t.samples.size.length, `sample ${number} of track ${t.id}`);
  return m.file.subarray(t.samples.offset[i], t.samples.offset[i] + t.samples.size[i]);
}

interface Predicted {
  payload: Buffer;
  marker: boolean;
  /** Hint sample time on the presentation timeline plus rtpo, in RTP clock ticks. */
  rtpTime: number;
}

/** The RTP packets a hint track describes, in order, for hint samples that start before `end` s. */
function predict(m: Movie, hint: Trak, end: number): Predicted[] {
  const out: Predicted[] = [];
  const refs = hint.hintRefs.map((id) => m.tracks.find((t) => t.id === id)!);
  for (let s = 0; s < hint.samples.size.length; s++) {
    const npt = (hint.samples.dts[s] - hint.editMediaTime) / hint.timescale;
    if (npt >= end) break;
    const d = sampleBytes(m, hint, s + 1);
    const count = d.readUInt16BE(0);
    let p = 4;
    for (let k = 0; k < count; k++) {
      const bits = d.readUInt16BE(p + 4);
      const flags = d.readUInt16BE(p + 8);
      const entries = d.readUInt16BE(p + 10);
      p += 12;
      let rtpo = 0;
      if (flags & 4) {
        const len = d.readUInt32BE(p);
        for (let q = p + 4; q + 8 <= p + len; q += d.readUInt32BE(q))
          if (d.toString('latin1', q + 4, q + 8) === 'rtpo') rtpo = d.readInt32BE(q + 8);
        p += len;
      }
      const parts: Buffer[] = [];
      for (let e = 0; e < entries; e++, p += 16) {
        const kind = d[p];
        if (kind === 1) parts.push(d.subarray(p + 2, p + 2 + d[p + 1]));
        else if (kind === 2) {
          const ref = d.readInt8(p + 1);
          const len = d.readUInt16BE(p + 2);
          const num = d.readUInt32BE(p + 4);
          const off = d.readUInt32BE(p + 8);
          assert.equal(d.readUInt16BE(p + 12), 1, 'bytes per compression block');
          assert.equal(d.readUInt16BE(p + 14), 1, 'samples per compression block');
          const src =
            ref === -1 ? (num === s + 1 ? d : sampleBytes(m, hint, num)) : sampleBytes(m, refs[ref], num);
          parts.push(src.subarray(off, off + len));
        } else assert.equal(kind, 0, `constructor type ${kind} does not occur in these files`);
      }
      if (flags & 1) continue; // repeat packet
      out.push({
        payload: Buffer.concat(parts),
        marker: (bits & 0x80) !== 0,
        rtpTime: Math.round(npt * hint.tims) + rtpo,
      });
    }
  }
  return out;
}

// ---- depacketizing, to tie the hints back to the media ---------------------------------------

/** NAL units of an H.264 RTP payload sequence (RFC 6184 single NAL, STAP-A, FU-A). */
function h264Nals(payloads: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let fu: Buffer[] = [];
  for (const p of payloads) {
    const type = p[0] & 0x1f;
    if (type === 24) {
      for (let o = 1; o + 2 <= p.length;) {
        const n = p.readUInt16BE(o);
        out.push(p.subarray(o + 2, o + 2 + n));
        o += 2 + n;
      }
    } else if (type === 28) {
      if (p[1] & 0x80) fu = [Buffer.from([(p[0] & 0xe0) | (p[1] & 0x1f)])];
      fu.push(p.subarray(2));
      if (p[1] & 0x40) out.push(Buffer.concat(fu));
    } else out.push(p);
  }
  return out;
}

/** NAL units of AVC samples (4-byte length prefixes, as ffmpeg writes them). */
function sampleNals(samples: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const s of samples)
    for (let o = 0; o + 4 <= s.length; o += 4 + s.readUInt32BE(o))
      out.push(s.subarray(o + 4, o + 4 + s.readUInt32BE(o)));
  return out;
}

/** Access units of MPEG4-GENERIC AAC-hbr payloads (RFC 3640: 13-bit size, 3-bit index). */
function aacFrames(payloads: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const p of payloads) {
    const headers = p.readUInt16BE(0) / 16;
    let data = 2 + headers * 2;
    for (let h = 0; h < headers; h++) {
      const size = p.readUInt16BE(2 + 2 * h) >> 3;
      out.push(p.subarray(data, data + size));
      data += size;
    }
  }
  return out;
}

/** Packet types in an RTCP compound packet. */
function rtcpTypes(b: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o + 4 <= b.length; o += (b.readUInt16BE(o + 2) + 1) * 4) out.push(b[o + 1]);
  return out;
}

// ---- the test -------------------------------------------------------------------------------

const FILES = ['hinted-h264-aac.mp4', 'hinted-h264-aac.mov', 'hinted-h264-aac.3gp'];

interface Received {
  seq: number;
  ts: number;
  marker: boolean;
  payload: Buffer;
}

describe('hint replay packet by packet (independent reader, TCP interleaved)', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  before(async () => {
    media = await mediaDirWith(FILES);
    // Everything is sent 10 s ahead, so the whole file arrives in a few seconds.
    srv = await startServer({ mediaDir: media.dir, sets: ['vod.sendAhead=10'] });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  for (const file of FILES) {
    it(`${file}: every packet of every hint track is what the hint samples describe`, async (t) => {
      const m = readMovie(join(media.dir, file));
      const hints = m.tracks.filter((t) => t.handler === 'hint');
      assert.equal(hints.length, 2);

      const c = await RawRtspClient.connect(srv.port);
      const url = srv.url(file);
      const d = await c.request('DESCRIBE', url);
      assert.equal(d.status, 200);
      for (const h of hints) assert.match(d.body, new RegExp(`a=control:trackID=${h.id}\r\n`));
      let session = '';
      for (const [i, h] of hints.entries()) {
        const r = await c.request('SETUP', `${url}/trackID=${h.id}`, {
          Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`,
          ...(session ? { Session: session } : {}),
        });
        assert.equal(r.status, 200, r.reason);
        session = r.headers.get('session')!.split(';')[0];
      }
      const play = await c.request('PLAY', url, { Session: session, Range: 'npt=0-' });
      assert.equal(play.status, 200);
      const info = play.headers
        .get('rtp-info')!
        .split(',')
        .map((s) => ({
          url: /url=([^;]+)/.exec(s)![1],
          seq: Number(/seq=(\d+)/.exec(s)![1]),
          rtptime: Number(/rtptime=(\d+)/.exec(s)![1]),
        }));
      // BYE on both RTCP channels: the whole range has been sent.
      const bye = (ch: number) =>
        c.frames.some((f) => f.channel === ch && rtcpTypes(f.payload).includes(203));
      assert.ok(await until(() => hints.every((_, i) => bye(2 * i + 1)), 40_000), 'stream ended with BYE');
      await c.request('TEARDOWN', url, { Session: session });
      c.close();

      for (const [i, h] of hints.entries()) {
        const got: Received[] = c.frames
          .filter((f) => f.channel === 2 * i)
          .map((f) => ({
            seq: f.payload.readUInt16BE(2),
            ts: f.payload.readUInt32BE(4),
            marker: (f.payload[1] & 0x80) !== 0,
            payload: f.payload.subarray(12),
          }));
        const want = predict(m, h, m.duration);
        const ri = info.find((x) => x.url.endsWith(`/trackID=${h.id}`))!;
        assert.ok(want.length > 10, `track ${h.id}: ${want.length} packets predicted`);
        assert.equal(got.length, want.length, `track ${h.id}: packets sent`);
        for (let k = 0; k < want.length; k++) {
          const g = got[k];
          const w = want[k];
          const where = `track ${h.id} packet ${k}`;
          assert.ok(
            g.payload.equals(w.payload),
            `${where}: payload (${g.payload.length} vs ${w.payload.length} bytes)`,
          );
          assert.equal(g.marker, w.marker, `${where}: marker`);
          assert.equal(g.seq, (ri.seq + k) & 0xffff, `${where}: sequence`);
          assert.equal(g.ts, (ri.rtptime + w.rtpTime) >>> 0, `${where}: timestamp`);
        }
        // The hints were made from the media samples: depacketized, they give them back.
        const mediaTrack = m.tracks.find((t) => t.id === h.hintRefs[0])!;
        const samples = mediaTrack.samples.size.map((_, n) => sampleBytes(m, mediaTrack, n + 1));
        const payloads = got.map((g) => g.payload);
        if (mediaTrack.handler === 'vide') {
          const sent = h264Nals(payloads);
          const stored = sampleNals(samples);
          assert.ok(sent.length >= stored.length * 0.95, `${sent.length} of ${stored.length} NAL units`);
          sent.forEach((n, k) => assert.ok(n.equals(stored[k]), `NAL unit ${k}`));
        } else {
          const sent = aacFrames(payloads);
          assert.ok(sent.length >= samples.length * 0.95, `${sent.length} of ${samples.length} AAC frames`);
          sent.forEach((fr, k) => assert.ok(fr.equals(samples[k]), `AAC frame ${k}`));
        }
        if (file.endsWith('.mp4'))
          assert.ok(got.length >= 250, `track ${h.id}: ${got.length} packets compared`);
        t.diagnostic(`track ${h.id} (${mediaTrack.handler}): ${got.length} packets compared`);
      }
    });
  }
});
