import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { RtpPayload } from '../codecs/types.js';
import { Frame } from '../core/frame.js';
import { writeRtpPacket } from '../rtp/packet.js';
import {
  h264NonReference,
  h265NonReference,
  fileSamples,
  mp4vNonReference,
  nonReferenceTest,
  Thinner,
  ThinningControl,
  type ThinningSettings,
  ViewerThinning,
} from './thinning.js';

const DSS: ThinningSettings = { enabled: true, thinPercent: 10, thinReports: 3, thickenPercent: 5, thickenReports: 6 };

/** H.264 NAL headers: IDR (nri 3), P slice (nri 2), non-reference B slice (nri 0), SEI, SPS. */
const IDR = 0x65;
const P = 0x41;
const B = 0x01;
const SEI = 0x06;
const SPS = 0x67;
const nal = (h: number) => Buffer.from([h, 0x88, 0x84, 0x00]);
const stapA = (...units: number[]) => Buffer.concat([Buffer.from([0x18]), ...units.flatMap((h) => [Buffer.from([0, 4]), nal(h)])]);
const fuA = (h: number, start: boolean) => Buffer.from([(h & 0xe0) | 28, (start ? 0x80 : 0) | (h & 0x1f), 0x11, 0x22]);

describe('ThinningControl', () => {
  it('thins a step after thinReports lossy reports in a row, and only then', () => {
    const c = new ThinningControl(DSS, true);
    assert.equal(c.report(0.2), undefined);
    assert.equal(c.report(0.2), undefined);
    assert.deepEqual(c.report(0.2), { from: 0, to: 1, lossPercent: 20 });
    assert.equal(c.report(0.3), undefined);
    assert.equal(c.report(0.3), undefined);
    assert.deepEqual(c.report(0.1), { from: 1, to: 2, lossPercent: 10 });
    // Nothing below keyframes only.
    for (let i = 0; i < 10; i++) assert.equal(c.report(0.9), undefined);
    assert.equal(c.level, 2);
  });

  it('a report that is not lossy enough starts the count again (hysteresis band included)', () => {
    const c = new ThinningControl(DSS, true);
    c.report(0.2);
    c.report(0.2);
    c.report(0.07); // between the thresholds
    c.report(0.2);
    assert.equal(c.report(0.2), undefined);
    assert.equal(c.level, 0);
    assert.equal(c.report(0.2)?.to, 1);
  });

  it('thickens a step after thickenReports clean reports in a row', () => {
    const c = new ThinningControl(DSS, true);
    for (let i = 0; i < 6; i++) c.report(0.5);
    assert.equal(c.level, 2);
    for (let i = 0; i < 5; i++) assert.equal(c.report(0), undefined);
    c.report(0.06); // in the band: the clean count starts again
    for (let i = 0; i < 5; i++) assert.equal(c.report(0.01), undefined);
    assert.deepEqual(c.report(0), { from: 2, to: 1, lossPercent: 0 });
    for (let i = 0; i < 5; i++) c.report(0);
    assert.deepEqual(c.report(0.04), { from: 1, to: 0, lossPercent: 4 });
    for (let i = 0; i < 20; i++) assert.equal(c.report(0), undefined);
  });

  it('goes straight between everything and keyframes only where non-reference frames are unknown', () => {
    const c = new ThinningControl({ ...DSS, thinReports: 1, thickenReports: 1 }, false);
    assert.deepEqual(c.report(0.5), { from: 0, to: 2, lossPercent: 50 });
    assert.deepEqual(c.report(0), { from: 2, to: 0, lossPercent: 0 });
  });

  it('reads odd fractions as 0..100 %', () => {
    const c = new ThinningControl({ ...DSS, thinReports: 1 }, true);
    assert.equal(c.report(-1), undefined);
    assert.equal(c.report(Number.NaN), undefined);
    assert.equal(c.report(7)?.lossPercent, 100);
  });
});

describe('non-reference pictures', () => {
  it('H.264: nal_ref_idc 0 on every unit, a slice among them', () => {
    assert.equal(h264NonReference([nal(B)]), true);
    assert.equal(h264NonReference([nal(B), nal(B)]), true);
    assert.equal(h264NonReference([nal(P)]), false);
    assert.equal(h264NonReference([nal(IDR)]), false);
    assert.equal(h264NonReference([nal(SEI)]), false, 'no slice');
    assert.equal(h264NonReference([stapA(SEI, B)]), true);
    assert.equal(h264NonReference([stapA(SPS, B)]), false);
    assert.equal(h264NonReference([fuA(B, true), fuA(B, false)]), true);
    assert.equal(h264NonReference([fuA(P, true), fuA(P, false)]), false);
    assert.equal(h264NonReference([nal(B), nal(P)]), false);
    assert.equal(h264NonReference([Buffer.from([0x1a, 0])]), false, 'MTAP is not looked into');
    assert.equal(h264NonReference([Buffer.from([0x18, 0, 9, 0x01])]), false, 'a truncated STAP-A');
    assert.equal(h264NonReference([]), false);
  });

  it('H.265: _N pictures of the highest temporal layer seen', () => {
    const t = h265NonReference();
    const unit = (type: number, tid: number) => Buffer.from([type << 1, tid + 1, 0xaa, 0xbb]);
    assert.equal(t.droppable([unit(0, 0)]), true, 'TRAIL_N');
    assert.equal(t.droppable([unit(1, 0)]), false, 'TRAIL_R');
    assert.equal(t.droppable([unit(8, 0)]), true, 'RASL_N');
    assert.equal(t.droppable([unit(19, 0)]), false, 'IDR');
    assert.equal(t.droppable([unit(39, 0), unit(0, 0)]), true, 'SEI with TRAIL_N');
    assert.equal(t.droppable([unit(34, 0), unit(0, 0)]), false, 'PPS with TRAIL_N');
    assert.equal(t.droppable([unit(39, 0)]), false, 'no picture');
    // FU of a TRAIL_N.
    assert.equal(t.droppable([Buffer.from([49 << 1, 1, 0x80 | 0, 0xaa])]), true);
    // AP holding SEI + TRAIL_N.
    const ap = Buffer.concat([Buffer.from([48 << 1, 1]), Buffer.from([0, 3]), unit(39, 0).subarray(0, 3), Buffer.from([0, 3]), unit(0, 0).subarray(0, 3)]);
    assert.equal(t.droppable([ap]), true);
    // Once a higher layer shows up, layer-0 _N pictures may be its references.
    t.observe(unit(1, 1));
    assert.equal(t.droppable([unit(0, 0)]), false);
    assert.equal(t.droppable([unit(0, 1)]), true);
  });

  it('MPEG-4 video: B-VOPs', () => {
    const vop = (type: number) => Buffer.from([0, 0, 1, 0xb6, type << 6, 0]);
    assert.equal(mp4vNonReference([vop(2)]), true);
    assert.equal(mp4vNonReference([vop(1)]), false);
    assert.equal(mp4vNonReference([vop(0)]), false);
    assert.equal(mp4vNonReference([Buffer.from([0, 0, 1, 0x20, 0, 0, 1, 0xb6, 0x80])]), false, 'a VOL first');
  });

  it('other codecs cannot tell', () => {
    assert.equal(nonReferenceTest('H263-1998'), undefined);
    assert.ok(nonReferenceTest('h264'));
  });
});

type Kind = 'key' | 'ref' | 'nonref';

/** Frames of `packets` packets each, numbered on from `seq`. */
class Frames {
  seq = 65530; // wraps within the tests
  ts = 0;
  make(kind: Kind, packets = 2): Frame {
    const f = new Frame(this.ts, this.seq, kind === 'key', 0);
    const h = kind === 'key' ? IDR : kind === 'ref' ? P : B;
    for (let i = 0; i < packets; i++) {
      const payload = packets === 1 ? nal(h) : fuA(h, i === 0);
      f.add(writeRtpPacket({ parts: [payload], length: payload.length, marker: i === packets - 1 }, { payloadType: 96, sequence: this.seq, timestamp: this.ts, ssrc: 7 }));
      this.seq = (this.seq + 1) & 0xffff;
    }
    this.ts += 3000;
    return f;
  }
}

function thinner(settings: Partial<ThinningSettings> = {}) {
  const lines: [Record<string, unknown>, string][] = [];
  const th = new Thinner({
    settings: { ...DSS, thinReports: 1, thickenReports: 1, ...settings },
    encodingName: 'H264',
    log: { info: (o, m) => lines.push([o as Record<string, unknown>, m]) },
    label: { session: '42', track: 0 },
  });
  let reports = 0;
  const report = (fractionLost: number) => th.reception({ reports: ++reports, fractionLost, highestSeq: reports * 100 });
  return { th, lines, report };
}

const seqs = (packets: readonly Buffer[]) => packets.map((p) => p.readUInt16BE(2));

describe('Thinner', () => {
  it('sends the shared packets themselves until something is dropped', () => {
    const { th } = thinner();
    const fr = new Frames();
    const k = fr.make('key');
    assert.equal(th.pass(k), k.packets);
    const b = fr.make('nonref');
    assert.equal(th.pass(b), b.packets);
  });

  it('drops non-reference frames at level 1, keyframes only at 2, with continuous sequence numbers', () => {
    const { th, lines, report } = thinner();
    const fr = new Frames();
    const sent: Buffer[] = [];
    const pass = (k: Kind) => {
      const f = fr.make(k);
      const out = th.pass(f);
      if (out) sent.push(...out);
      return out;
    };
    pass('key');
    report(0.2);
    assert.equal(th.stats.level, 1);
    assert.deepEqual(lines[0], [{ session: '42', track: 0, from: 0, to: 1, lossPercent: 20, level: 1, thinned: 1, thickened: 0, framesDropped: 0, packetsDropped: 0 }, 'viewer thinned']);
    assert.equal(pass('nonref'), undefined);
    assert.ok(pass('ref'));
    report(0.25);
    assert.equal(th.stats.level, 2);
    assert.equal(pass('ref'), undefined);
    assert.equal(pass('nonref'), undefined);
    assert.ok(pass('key'));
    report(0);
    assert.equal(th.stats.level, 1);
    assert.equal(lines[2][1], 'viewer thickened');
    // P-frames come back only from a keyframe: theirs were not sent.
    assert.equal(pass('ref'), undefined);
    assert.ok(pass('key'));
    assert.ok(pass('ref'));
    assert.equal(pass('nonref'), undefined);
    report(0);
    assert.equal(th.stats.level, 0);
    assert.ok(pass('ref') && pass('nonref'));
    assert.deepEqual(th.stats, { level: 0, thinned: 2, thickened: 2, framesDropped: 5, packetsDropped: 10 });
    // The viewer sees no gap, across the 16-bit wrap.
    const s = seqs(sent);
    for (let i = 1; i < s.length; i++) assert.equal(s[i], (s[i - 1] + 1) & 0xffff, `continuous at ${i}: ${s.join(' ')}`);
    // Each step said once.
    assert.deepEqual(lines.map((l) => l[1]), ['viewer thinned', 'viewer thinned', 'viewer thickened', 'viewer thickened']);
  });

  it('never changes the shared packets, and keeps their other fields', () => {
    const { th, report } = thinner();
    const fr = new Frames();
    th.pass(fr.make('key'));
    report(0.5);
    th.pass(fr.make('nonref'));
    const f = fr.make('ref');
    const before = f.packets.map((p) => Buffer.from(p));
    const out = th.pass(f)!;
    assert.deepEqual(f.packets, before);
    assert.notEqual(out[0], f.packets[0]);
    assert.deepEqual(out[0].subarray(4), f.packets[0].subarray(4));
    assert.equal(out[0][1], f.packets[0][1], 'marker and payload type kept');
  });

  it('the same report seen twice counts once', () => {
    const { th } = thinner({ thinReports: 2 });
    th.reception({ reports: 1, fractionLost: 0.5, highestSeq: 100 });
    th.reception({ reports: 1, fractionLost: 0.5, highestSeq: 100 });
    assert.equal(th.stats.level, 0);
    th.reception({ reports: 2, fractionLost: 0.5, highestSeq: 200 });
    assert.equal(th.stats.level, 1);
  });

  it('a report counts only once enough packets were sent since the last that counted', () => {
    const { th } = thinner({ thinReports: 1, thickenReports: 2 });
    th.reception({ reports: 1, fractionLost: 0.5, highestSeq: 0x1fff0 });
    assert.equal(th.stats.level, 1);
    // Keyframes only or not, a viewer sent next to nothing reports no loss: that says nothing.
    th.reception({ reports: 2, fractionLost: 0, highestSeq: 0x1fff5 });
    th.reception({ reports: 3, fractionLost: 0, highestSeq: 0x1fff9 });
    th.reception({ reports: 4, fractionLost: 0, highestSeq: 0x1fffa });
    assert.equal(th.stats.level, 1);
    th.reception({ reports: 5, fractionLost: 0, highestSeq: 0x20000 }); // 16 since the last counted
    assert.equal(th.stats.level, 1);
    th.reception({ reports: 6, fractionLost: 0, highestSeq: 0x20020 });
    assert.equal(th.stats.level, 0);
    // A viewer whose numbers went back (played again) is heard at once.
    th.reception({ reports: 7, fractionLost: 0.5, highestSeq: 5 });
    assert.equal(th.stats.level, 1);
  });

  it('any frames and reports: continuous numbers, and no frame sent whose references were not', () => {
    const kinds = fc.constantFrom<Kind>('key', 'ref', 'nonref');
    const step = fc.oneof(
      fc.record({ frame: kinds, packets: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ loss: fc.constantFrom(0, 0.02, 0.07, 0.2, 0.6) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (steps, thinReports, thickenReports) => {
        const { th, report } = thinner({ thinReports, thickenReports });
        const fr = new Frames();
        const sent: number[] = [];
        let broken = false; // a reference frame was dropped since the last keyframe sent
        let dropped = 0;
        for (const s of steps) {
          if ('loss' in s) {
            report(s.loss);
            continue;
          }
          const out = th.pass(fr.make(s.frame, s.packets));
          if (!out) {
            dropped++;
            if (s.frame !== 'nonref') broken = true;
            continue;
          }
          if (s.frame === 'key') broken = false;
          else assert.ok(!broken, 'a frame sent after one of its references was dropped');
          sent.push(...seqs(out));
        }
        for (let i = 1; i < sent.length; i++) assert.equal(sent[i], (sent[i - 1] + 1) & 0xffff);
        assert.equal(th.stats.framesDropped, dropped);
      }),
    );
  });
});

describe('ViewerThinning of file samples', () => {
  /** A file sample: payloads whose bytes are in several parts (a header and a view of the file). */
  const sample = (...nals: Buffer[]): RtpPayload[] =>
    nals.map((b, i) => ({ parts: [b.subarray(0, 1), b.subarray(1)], length: b.length, marker: i === nals.length - 1 }));
  const viewer = (encodingName = 'H264') => {
    const lines: string[] = [];
    const th = new ViewerThinning({ settings: { ...DSS, thinReports: 1, thickenReports: 1 }, encodingName, log: { info: (_o, m) => lines.push(m) }, label: {} }, fileSamples);
    let reports = 0;
    const report = (fractionLost: number) => th.reception({ reports: ++reports, fractionLost, highestSeq: reports * 100 });
    return { th, lines, report };
  };

  it('drops non-reference samples at 1 (made contiguous to be tested), all but keyframes at 2, and counts them', () => {
    const { th, report } = viewer();
    const b = sample(stapA(SEI, B), fuA(B, true), fuA(B, false));
    const p = sample(nal(P));
    const key = sample(stapA(SPS, IDR));
    const before = b.map((x) => Buffer.concat(x.parts));
    assert.equal(th.drops(b, false, 3), false, 'level 0 sends everything');
    report(0.5);
    assert.equal(th.level, 1);
    assert.equal(th.drops(b, false, 3), true);
    assert.equal(th.drops(p, false, 1), false);
    assert.equal(th.drops(key, true, 1), false);
    assert.deepEqual(b.map((x) => Buffer.concat(x.parts)), before, 'payloads are never changed');
    assert.equal(b[0].parts.length, 2);
    report(0.5);
    assert.equal(th.drops(p, false, 1), true);
    assert.equal(th.drops(key, true, 1), false);
    assert.deepEqual(th.stats, { level: 2, thinned: 2, thickened: 0, framesDropped: 2, packetsDropped: 4 });
  });

  it('answers once per shared payloads array for a stateless test, for every viewer', () => {
    let calls = 0;
    const test = { droppable: (ps: readonly Buffer[]) => (calls++, h264NonReference(ps)) };
    const b = sample(nal(B));
    assert.equal(fileSamples.droppable(b, test), true);
    assert.equal(fileSamples.droppable(b, test), true);
    assert.equal(calls, 1);
    assert.equal(fileSamples.droppable(sample(nal(B)), test), true);
    assert.equal(calls, 2, 'another array is tested on its own');
    assert.equal(fileSamples.droppable([], test), false);
  });

  it('a stateful test (H.265) sees every sample first and answers per viewer', () => {
    const { th, report } = viewer('H265');
    const h265 = (type: number, tid: number) => sample(Buffer.from([type << 1, tid + 1, 0xaa, 0xbb]));
    report(0.5);
    // TRAIL_N at temporal layer 0 while layer 1 was never seen: the highest, droppable.
    const trailN0 = h265(0, 0);
    assert.equal(th.drops(trailN0, false, 1), true);
    assert.equal(th.drops(h265(0, 1), false, 1), true);
    // Layer 1 seen: a TRAIL_N of layer 0 may be referred to by it.
    assert.equal(th.drops(trailN0, false, 1), false);
  });

  it('a new start waits for a keyframe', () => {
    const { th } = viewer();
    th.restart();
    assert.equal(th.drops(sample(nal(P)), false, 1), true);
    assert.equal(th.drops(sample(nal(IDR)), true, 1), false);
    assert.equal(th.drops(sample(nal(P)), false, 1), false);
  });
});
