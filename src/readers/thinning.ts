/** Thinning under loss (DSS's QTSSFlowControlModule): a UDP viewer of a live video track whose
 * receiver reports show sustained loss is sent less, and more again when its loss falls; of a
 * stored file too (the file player drops the samples, `fileSamples`).
 *
 * Levels: 0 every frame; 1 no non-reference pictures (a decoder never needs them: H.264
 * nal_ref_idc 0, H.265 sub-layer non-reference pictures of the highest temporal layer, MPEG-4
 * B-VOPs; skipped for a codec where a frame cannot tell); 2 keyframes only. Audio is never thinned.
 * The level moves one step at a time, with DSS's hysteresis: `thinReports` reports in a row at or
 * above `thinPercent` loss step it up, `thickenReports` in a row below `thickenPercent` step it
 * down, and any other report, or a step, starts both counts again.
 *
 * The packets a live viewer gets are the track's, shared with every viewer and numbered by the
 * track. A dropped frame would leave a gap in those numbers, which the viewer takes for loss (and
 * reports, so it would never thicken back), so once a thinner has dropped a frame the viewer gets
 * copies renumbered by the count of packets dropped so far: its sequence stays continuous. A file
 * viewer's packets are its own, numbered as they are sent: a dropped sample is simply not sent. */
import type { RtpPayload } from '../codecs/types.js';
import type { Frame } from '../core/frame.js';
import { readRtpHeader, rewriteRtpHeader } from '../rtp/packet.js';

export type ThinningLevel = 0 | 1 | 2;

/** The `retransmit.thinning` settings. */
export interface ThinningSettings {
  enabled: boolean;
  /** A report at or above this loss (percent) counts toward thinning. */
  thinPercent: number;
  /** Reports in a row needed to step the level up. */
  thinReports: number;
  /** A report below this loss (percent) counts toward thickening. */
  thickenPercent: number;
  /** Reports in a row needed to step the level down. */
  thickenReports: number;
}

export interface LevelChange {
  from: ThinningLevel;
  to: ThinningLevel;
  /** Loss of the report that made the step, percent. */
  lossPercent: number;
}

/** The level from the fraction lost of each receiver report, with hysteresis. */
export class ThinningControl {
  #level: ThinningLevel = 0;
  #above = 0;
  #below = 0;

  constructor(
    readonly settings: ThinningSettings,
    /** Whether level 1 exists (the codec tells non-reference pictures); else 0 ↔ 2. */
    readonly nonReferenceLevel: boolean,
  ) {}

  get level(): ThinningLevel {
    return this.#level;
  }

  /** One receiver report's fraction lost (0..1); the step it makes, if any. */
  report(fractionLost: number): LevelChange | undefined {
    const lossPercent = Math.round(Math.min(1, Math.max(0, fractionLost)) * 1000) / 10;
    const s = this.settings;
    let to: ThinningLevel | undefined;
    if (lossPercent >= s.thinPercent) {
      this.#below = 0;
      if (++this.#above >= s.thinReports && this.#level < 2) to = this.#level === 0 && this.nonReferenceLevel ? 1 : 2;
    } else if (lossPercent < s.thickenPercent) {
      this.#above = 0;
      if (++this.#below >= s.thickenReports && this.#level > 0) to = this.#level === 2 && this.nonReferenceLevel ? 1 : 0;
    } else {
      this.#above = 0;
      this.#below = 0;
    }
    if (to === undefined) return undefined;
    const from = this.#level;
    this.#level = to;
    this.#above = 0;
    this.#below = 0;
    return { from, to, lossPercent };
  }
}

/** Says whether a frame (the payloads of its RTP packets) is a picture no other picture refers
 * to. Stateful for H.265 (the highest temporal layer seen): one per viewer track, shown the first
 * payload of every frame. */
export interface NonReferenceTest {
  /** Every frame's first payload, cheaply (what it must learn of the stream); absent for a
   * stateless test, which then costs a viewer nothing on a frame it sends. */
  observe?(first: Buffer): void;
  /** Whether the frame can be dropped without harming any other. */
  droppable(payloads: readonly Buffer[]): boolean;
}

/** RFC 6184: every NAL unit of the frame has nal_ref_idc 0 and one at least is a slice. */
export function h264NonReference(packets: readonly Buffer[]): boolean {
  let slice = false;
  const nal = (b: number): boolean => {
    const t = b & 0x1f;
    if (t >= 1 && t <= 5) slice = true;
    return (b & 0x60) === 0 && t !== 5;
  };
  for (const p of packets) {
    if (p.length < 1) continue;
    const t = p[0] & 0x1f;
    if (t >= 1 && t <= 23) {
      if (!nal(p[0])) return false;
    } else if (t === 24) {
      let o = 1;
      while (o + 3 <= p.length) {
        const size = p.readUInt16BE(o);
        if (size === 0 || o + 2 + size > p.length) return false;
        if (!nal(p[o + 2])) return false;
        o += 2 + size;
      }
    } else if (t === 28 || t === 29) {
      if (p.length < 2 || !nal((p[0] & 0xe0) | (p[1] & 0x1f))) return false;
    } else {
      return false; // STAP-B, MTAP: not looked into
    }
  }
  return slice;
}

/** RFC 7798: each NAL unit's type and TemporalId (-1 for a unit too short), or false when the
 * packet cannot be read. */
function h265Units(p: Buffer, unit: (type: number, tid: number) => boolean): boolean {
  if (p.length < 2) return true;
  const t = (p[0] >> 1) & 0x3f;
  const tid = (p[1] & 7) - 1;
  if (t === 48) {
    let o = 2;
    while (o + 4 <= p.length) {
      const size = p.readUInt16BE(o);
      if (size < 2 || o + 2 + size > p.length) return false;
      if (!unit((p[o + 2] >> 1) & 0x3f, (p[o + 3] & 7) - 1)) return false;
      o += 2 + size;
    }
    return true;
  }
  if (t === 49) return p.length >= 3 && unit(p[2] & 0x3f, tid);
  if (t === 50) return false; // PACI: not looked into
  return unit(t, tid);
}

/** H.265: a sub-layer non-reference picture (TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N, reserved
 * _N) is referred to by no picture of its own temporal layer, but may be by higher ones: dropped
 * only in the highest layer seen on the track. */
export function h265NonReference(): Required<NonReferenceTest> {
  let maxTid = 0;
  return {
    observe(p) {
      if (p.length >= 2) maxTid = Math.max(maxTid, (p[1] & 7) - 1);
    },
    droppable(packets) {
      let vcl = false;
      for (const p of packets) {
        const ok = h265Units(p, (t, tid) => {
          if (t >= 32) return t === 35 || t === 38 || t === 39 || t === 40; // AUD, FD, SEI
          vcl = true;
          return t <= 14 && t % 2 === 0 && tid >= maxTid;
        });
        if (!ok) return false;
      }
      return vcl;
    },
  };
}

/** RFC 6416: a B-VOP (vop_coding_type 2), which no VOP refers to. */
export function mp4vNonReference(packets: readonly Buffer[]): boolean {
  const p = packets[0];
  if (!p) return false;
  for (let i = 0; i + 4 < p.length && i < 64; i++) {
    if (p[i] === 0 && p[i + 1] === 0 && p[i + 2] === 1) {
      if (p[i + 3] === 0xb6) return p[i + 4] >> 6 === 2;
      if (p[i + 3] >= 0x20 && p[i + 3] <= 0x2f) return false; // a VOL: a keyframe
    }
  }
  return false;
}

/** The non-reference test of a video encoding, or undefined where a frame cannot tell. */
export function nonReferenceTest(encodingName: string): NonReferenceTest | undefined {
  switch (encodingName.toUpperCase()) {
    case 'H264':
      return { droppable: h264NonReference };
    case 'H265':
      return h265NonReference();
    case 'MP4V-ES':
      return { droppable: mp4vNonReference };
    default:
      return undefined;
  }
}

/** What a viewer track's thinning did, for its stats and log lines. */
export interface ThinningStats {
  level: ThinningLevel;
  /** Steps up and down. */
  thinned: number;
  thickened: number;
  /** Frames not sent because of the level. */
  framesDropped: number;
  packetsDropped: number;
}

/** Where level changes are said (a session's logger). */
export interface ThinningLog {
  info(obj: object, msg: string): void;
}

export interface ThinnerOptions {
  settings: ThinningSettings;
  /** The track's rtpmap encoding name (level 1 only where `nonReferenceTest` knows it). */
  encodingName: string;
  log: ThinningLog;
  /** Who, in every log line (session, track). */
  label: object;
}

/** How a kind of frame `F` shows its payloads to the non-reference test: a live frame's shared
 * RTP packets, a file sample's payloads. */
export interface FrameReader<F> {
  /** The frame's first payload, its first bytes contiguous at least (`NonReferenceTest.observe`),
   * or undefined. Called for every frame of a stateful test only. */
  first(f: F): Buffer | undefined;
  /** Whether `test` may drop the frame (false for a malformed one). Called at level 1 only, for a
   * frame that is not a keyframe; may cache its answer per frame where `test` is stateless. */
  droppable(f: F, test: NonReferenceTest): boolean;
}

/** Packets a receiver report must speak for (since the last one counted) to count. */
const MIN_REPORTED_PACKETS = 10;

/** One UDP viewer's thinning of one video track, live or file: the level from its receiver
 * reports, and which frames (`F`) it drops. Its owner sends the others (a live `Thinner`
 * renumbered; a file player with the viewer's own numbers). */
export class ViewerThinning<F> {
  readonly #control: ThinningControl;
  readonly #test: NonReferenceTest | undefined;
  readonly #read: FrameReader<F>;
  readonly #log: ThinningLog;
  readonly #label: object;
  /** Receiver reports seen (`ReceptionStats.reports`). */
  #reports = 0;
  /** Extended highest sequence number of the last report that moved the control. */
  #highest: number | undefined;
  /** Back from keyframes only (or a new start): the frames between were not sent, so wait for
   * the next keyframe. */
  #needKey = false;
  readonly #stats: ThinningStats = { level: 0, thinned: 0, thickened: 0, framesDropped: 0, packetsDropped: 0 };

  constructor(opts: ThinnerOptions, read: FrameReader<F>) {
    this.#test = nonReferenceTest(opts.encodingName);
    this.#control = new ThinningControl(opts.settings, this.#test !== undefined);
    this.#read = read;
    this.#log = opts.log;
    this.#label = opts.label;
  }

  get stats(): Readonly<ThinningStats> {
    return this.#stats;
  }

  get level(): ThinningLevel {
    return this.#stats.level;
  }

  /** The viewer's receiver reports so far (`reports` counts them): a new one moves the level,
   * once `MIN_REPORTED_PACKETS` were sent since the last that did. A viewer getting keyframes
   * only may report intervals in which it was sent nothing, "no loss", which says nothing. */
  reception(r: { reports: number; fractionLost: number; highestSeq: number }): void {
    if (r.reports === this.#reports) return;
    this.#reports = r.reports;
    if (this.#highest !== undefined) {
      const advanced = (r.highestSeq - this.#highest) | 0;
      if (advanced >= 0 && advanced < MIN_REPORTED_PACKETS) return;
    }
    this.#highest = r.highestSeq;
    const change = this.#control.report(r.fractionLost);
    if (!change) return;
    const s = this.#stats;
    s.level = change.to;
    if (change.to > change.from) s.thinned++;
    else s.thickened++;
    // Resuming P-frames after keyframes only needs a keyframe first: their references were not sent.
    if (change.from === 2) this.#needKey = true;
    this.#log.info({ ...this.#label, ...change, ...s }, change.to > change.from ? 'viewer thinned' : 'viewer thickened');
  }

  /** The stream starts again elsewhere (a file seek): nothing goes before its next keyframe. */
  restart(): void {
    this.#needKey = true;
  }

  /** Whether frame `f` (a keyframe or not, of `packets` packets) is not sent at this level;
   * counted when it is not. */
  drops(f: F, key: boolean, packets: number): boolean {
    const test = this.#test;
    if (test?.observe) {
      const first = this.#read.first(f);
      if (first) test.observe(first);
    }
    let drop = false;
    if (key) this.#needKey = false;
    else if (this.#needKey || this.#stats.level === 2) drop = true;
    else if (this.#stats.level === 1 && test) drop = this.#read.droppable(f, test);
    if (drop) {
      this.#stats.framesDropped++;
      this.#stats.packetsDropped += packets;
    }
    return drop;
  }

  /** Says once, at the viewer's end, what thinning did, if it ever thinned. */
  logSummary(): void {
    const s = this.#stats;
    if (s.thinned > 0) this.#log.info({ ...this.#label, ...s }, 'thinning');
  }
}

/** A live frame's shared RTP packets, their payloads read once for all its viewers. */
const liveFrames: FrameReader<Frame> = {
  first: (f) => (f.packets.length > 0 ? payloadOf(f.packets[0]) : undefined),
  droppable(f, test) {
    const payloads = framePayloads(f);
    return payloads !== undefined && test.droppable(payloads);
  },
};

/** One UDP viewer's thinning of one live video track: `ViewerThinning`, and the renumbered
 * copies once anything was dropped (see the file comment). */
export class Thinner {
  readonly #thin: ViewerThinning<Frame>;
  /** Packets dropped so far, taken off every later sequence number. */
  #offset = 0;

  constructor(opts: ThinnerOptions) {
    this.#thin = new ViewerThinning(opts, liveFrames);
  }

  get stats(): Readonly<ThinningStats> {
    return this.#thin.stats;
  }

  /** See `ViewerThinning.reception`. */
  reception(r: { reports: number; fractionLost: number; highestSeq: number }): void {
    this.#thin.reception(r);
  }

  /** The packets to send for `f` (its own, or renumbered copies), or undefined to drop it. */
  pass(f: Frame): readonly Buffer[] | undefined {
    if (this.#thin.drops(f, f.key, f.packets.length)) {
      this.#offset = (this.#offset + f.packets.length) & 0xffff;
      return undefined;
    }
    if (this.#offset === 0) return f.packets;
    return f.packets.map((p) => this.#renumber(p));
  }

  /** Says once, at the viewer's end, what thinning did, if it ever thinned. */
  logSummary(): void {
    this.#thin.logSummary();
  }

  #renumber(p: Buffer): Buffer {
    const c = Buffer.allocUnsafe(p.length);
    p.copy(c);
    return c.length >= 12 ? rewriteRtpHeader(c, { sequence: c.readUInt16BE(2) - this.#offset }) : c;
  }
}

/** A file sample's payloads (shared between the viewers of the file through the packet cache)
 * and whether a stateless test drops it, answered once per payloads array. */
const fileAnswers = new WeakMap<readonly RtpPayload[], boolean>();

/** A stored file's sample: its RTP payloads (`RtpPayload`, their bytes in parts), made
 * contiguous only to be tested, at level 1 (never changed: other viewers send them). */
export const fileSamples: FrameReader<readonly RtpPayload[]> = {
  first(payloads) {
    const p = payloads[0];
    if (!p) return undefined;
    // `observe` reads the payload header (2 bytes).
    return p.parts.length === 1 || p.parts[0].length >= 2 ? p.parts[0] : contiguous(p);
  },
  droppable(payloads, test) {
    // A stateful test (H.265's highest temporal layer) answers for this viewer only.
    if (test.observe) return payloads.length > 0 && test.droppable(payloads.map(contiguous));
    let answer = fileAnswers.get(payloads);
    if (answer === undefined) {
      answer = payloads.length > 0 && test.droppable(payloads.map(contiguous));
      fileAnswers.set(payloads, answer);
    }
    return answer;
  },
};

function contiguous(p: RtpPayload): Buffer {
  return p.parts.length === 1 ? p.parts[0] : Buffer.concat(p.parts, p.length);
}

/** Each frame's payloads, read once for all the viewers thinned to level 1 (null: a packet is
 * malformed, so the frame is never dropped as non-reference). */
const payloadsOfFrame = new WeakMap<Frame, readonly Buffer[] | null>();

function framePayloads(f: Frame): readonly Buffer[] | undefined {
  let payloads = payloadsOfFrame.get(f);
  if (payloads === undefined) {
    const all = f.packets.map(payloadOf);
    payloads = all.every((p) => p !== undefined) ? all : null;
    payloadsOfFrame.set(f, payloads);
  }
  return payloads ?? undefined;
}

/** An RTP packet's payload (padding off), or undefined for a malformed one. */
function payloadOf(p: Buffer): Buffer | undefined {
  const h = readRtpHeader(p);
  return h ? p.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength) : undefined;
}
