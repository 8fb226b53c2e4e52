/** Streaming a hinted movie from its RTP hint tracks, as QuickTime Streaming Server did: the hint
 * track's SDP text describes the payload format, and each hint sample is replayed into exactly
 * the payload bytes its constructors describe (Rivulet's own SSRC, sequence numbers and timestamp
 * origin aside). The codec of the hinted media does not matter: that is the point of hints.
 *
 * Each hint sample is due at its own time; its packets go out together then (the send-ahead
 * covers what per-packet relative transmission times would spread). A packet's RTP timestamp is
 * the sample's time on the presentation timeline plus its 'rtpo' offset, so RTP-Info, pause and
 * seek work as for natively packetized tracks. Repeat packets are dropped; B-frame packets are
 * all sent (no thinning). The hinter's own SSRC, sequence numbers and 'tsro'/'snro' offsets are
 * not used. */
import type { Packetizer, RtpPayload } from '../codecs/types.js';
import {
  HintError,
  parseHintSample,
  parseRtpHintEntry,
  type HintPacket,
  type SampleConstructor,
  type SampleDescriptionConstructor,
} from '../media/mp4/hint.js';
import type { ChunkLayout, Mp4Movie, Mp4Track, SampleInfo, SampleReader } from '../media/mp4/types.js';
import { parseSdp, SdpError } from '../sdp/index.js';
import type { SkippedTrack, VodTrack } from './types.js';

export interface HintTracks {
  /** Usable hint tracks by the id of the media track they hint (the first tref/hint entry). */
  byMedia: Map<number, VodTrack>;
  /** Hint tracks that cannot be used, by the id of the media track they hint. */
  broken: Map<number, SkippedTrack[]>;
  /** Hint tracks left out for other reasons (no media track, an alternate of another one). */
  skipped: SkippedTrack[];
}

/** Sorts a movie's hint tracks into usable, broken and left out. */
export function describeHintTracks(movie: Mp4Movie): HintTracks {
  const out: HintTracks = { byMedia: new Map(), broken: new Map(), skipped: [] };
  for (const hint of movie.tracks) {
    if (hint.handler !== 'hint') continue;
    const media = movie.tracks.find((t) => t.id === hint.references.hint?.[0] && t.handler !== 'hint');
    if (!media) {
      const ref = hint.references.hint?.[0];
      out.skipped.push({
        id: hint.id,
        codec: hint.codec,
        reason: ref === undefined ? 'hint track without a tref/hint reference' : `hint track for track ${ref}, which the movie does not have`,
      });
      continue;
    }
    const r = describeHintTrack(movie, hint, media);
    if (typeof r === 'string') {
      const list = out.broken.get(media.id) ?? [];
      list.push({ id: hint.id, codec: hint.codec, reason: r });
      out.broken.set(media.id, list);
    } else if (out.byMedia.has(media.id)) {
      // Alternates (another packet size, say) would each be an m= line a player sets up.
      const first = out.byMedia.get(media.id)!.description.id;
      out.skipped.push({ id: hint.id, codec: hint.codec, reason: `alternate hint track for track ${media.id}; hint track ${first} is used` });
    } else {
      out.byMedia.set(media.id, r);
    }
  }
  return out;
}

function bitrateKbps(t: Mp4Track): number | undefined {
  const s = t.timescale > 0 ? t.duration / t.timescale : 0;
  return s > 0 ? (t.totalBytes * 8) / s / 1000 : undefined;
}

/** A VodTrack that replays `hint`, or why it cannot be used. Only the moov is looked at here;
 * a hint sample that turns out to be malformed while playing costs its own packets. */
export function describeHintTrack(movie: Mp4Movie, hint: Mp4Track, media: Mp4Track): VodTrack | string {
  if (hint.codec !== 'rtp ') return `'${hint.codec}' hint track (only RTP hint tracks are streamed)`;
  if (hint.sampleCount === 0) return 'hint track has no samples';
  const raw = hint.sampleEntries?.[0];
  if (!raw) return "unreadable 'rtp ' sample entry";
  let timescale: number;
  try {
    timescale = parseRtpHintEntry(raw).timescale;
  } catch (e) {
    if (e instanceof HintError) return e.message;
    throw e;
  }
  if (!(timescale > 0)) return "the 'rtp ' sample entry has no RTP timescale ('tims')";
  if (!hint.hintSdp) return "no SDP text (udta/hnti/'sdp ')";
  let sdp;
  try {
    sdp = parseSdp(`v=0\r\n${hint.hintSdp}`);
  } catch (e) {
    if (e instanceof SdpError) return `unusable SDP text: ${e.message}`;
    throw e;
  }
  if (sdp.media.length !== 1) return `the SDP text has ${sdp.media.length} media sections`;
  const m = sdp.media[0];
  if (m.format.clockRate !== timescale) {
    return `the SDP clock rate ${m.format.clockRate} differs from the RTP timescale ${timescale}`;
  }
  const refs = (hint.references.hint ?? []).map((id) => movie.tracks.find((t) => t.id === id));
  const replayer = new HintReplayer(hint, refs);
  const video = m.format.media === 'video';
  return {
    kind: video ? 'video' : 'audio',
    mp4: hint,
    clockRate: timescale,
    description: {
      id: hint.id,
      control: `trackID=${hint.id}`,
      format: m.format,
      bitrateKbps: m.bitrateKbps ?? bitrateKbps(media),
      width: m.width ?? (video ? media.width : undefined),
      height: m.height ?? (video ? media.height : undefined),
      frameRate: m.frameRate,
      mediaSdp: hint.hintSdp,
    },
    createPacketizer: (): Packetizer => {
      throw new Error(`track ${hint.id} is an RTP hint track: its samples are replayed, not packetized`);
    },
    load: (info, data, reader) => replayer.load(info, data, reader),
  };
}

/** Chunk byte sizes remembered per track; bounded because a long audio track has many chunks. */
const MAX_CACHED_CHUNKS = 1024;

/** Turns hint samples into payloads. Immutable apart from caches, so one instance serves every
 * viewer of the movie. */
export class HintReplayer {
  readonly #hint: Mp4Track;
  /** Tracks named by tref/hint, by reference index; undefined where the file names a missing one. */
  readonly #refs: (Mp4Track | undefined)[];
  readonly #layouts = new Map<Mp4Track, ChunkLayout>();
  readonly #chunkBytes = new Map<string, number>();

  constructor(hint: Mp4Track, refs: (Mp4Track | undefined)[]) {
    this.#hint = hint;
    this.#refs = refs;
  }

  /** The payloads hint sample `info` (whose bytes are `data`) describes, in order; repeat packets
   * are left out. Reads referenced samples through `reader`. Malformed hints raise HintError. */
  async load(info: SampleInfo, data: Buffer, reader: SampleReader): Promise<RtpPayload[]> {
    const packets = parseHintSample(data);
    // Referenced samples already read for this hint sample (the usual case: every packet of a
    // frame points into the same media sample), so most constructors resolve without awaiting.
    const cache = new Map<string, Buffer>();
    const out: RtpPayload[] = [];
    for (const pkt of packets) {
      // Repeats are for lossy links and would only duplicate what a reliable receiver has.
      if (pkt.repeat) continue;
      const parts: Buffer[] = [];
      for (const c of pkt.constructors) {
        if (c.type === 'immediate') {
          if (c.data.length) parts.push(c.data);
        } else if (c.type === 'sample') {
          const hit = c.length ? cache.get(`${c.trackRef}:${c.sampleNumber}`) : undefined;
          if (hit && c.offset + c.length <= hit.length) parts.push(hit.subarray(c.offset, c.offset + c.length));
          else for (const b of await this.#sampleBytes(c, info, data, reader, cache)) parts.push(b);
        } else if (c.length) {
          parts.push(this.#descriptionBytes(c));
        }
      }
      const payload: RtpPayload = { parts, length: pkt.length, marker: pkt.marker };
      if (pkt.timestampOffset) payload.timestampOffset = pkt.timestampOffset;
      out.push(pkt.padding || pkt.extension ? withoutHeaderExtras(payload, pkt) : payload);
    }
    return out;
  }

  #track(ref: number): Mp4Track {
    const t = ref === -1 ? this.#hint : this.#refs[ref];
    if (!t) throw new HintError(`constructor names track reference ${ref}, which the hint track does not have`);
    return t;
  }

  async #sampleBytes(
    c: SampleConstructor,
    info: SampleInfo,
    data: Buffer,
    reader: SampleReader,
    cache: Map<string, Buffer>,
  ): Promise<Buffer[]> {
    if (c.length === 0) return [];
    const track = this.#track(c.trackRef);
    const index = c.sampleNumber - 1;
    if (index >= track.sampleCount) {
      throw new HintError(`constructor names sample ${c.sampleNumber} of track ${track.id}, which has ${track.sampleCount}`);
    }
    const self = track === this.#hint;
    if (!self) {
      const bpb = c.bytesPerBlock || 1;
      const spb = c.samplesPerBlock || 1;
      // QuickTime's rule: audio described in compression blocks, or stored as 1-byte "samples",
      // is addressed as bytes running through the chunk rather than inside one sample.
      if (bpb !== 1 || spb !== 1 || track.sample(index).size === 1) return this.#blockBytes(track, c, bpb, spb, reader);
    }
    let bytes: Buffer;
    if (self && index === info.index) bytes = data;
    else {
      const key = `${c.trackRef}:${c.sampleNumber}`;
      let b = cache.get(key);
      if (!b) {
        b = await reader.read(track.sample(index));
        cache.set(key, b);
      }
      bytes = b;
    }
    if (c.offset + c.length > bytes.length) {
      throw new HintError(
        `constructor wants bytes ${c.offset}-${c.offset + c.length} of sample ${c.sampleNumber} of track ${track.id}, which has ${bytes.length}`,
      );
    }
    return [bytes.subarray(c.offset, c.offset + c.length)];
  }

  /** Bytes of audio stored in compression blocks: they may run on past the sample and chunk the
   * constructor names, into the next chunks. */
  async #blockBytes(track: Mp4Track, c: SampleConstructor, bpb: number, spb: number, reader: SampleReader): Promise<Buffer[]> {
    const layout = this.#layout(track);
    const blocks = Math.floor(c.offset / bpb);
    const first = c.sampleNumber - 1 + blocks * spb;
    if (first >= track.sampleCount) throw new HintError(`constructor points past the end of track ${track.id}`);
    let k = chunkOf(layout, first);
    let pos = layout.offsets[k] + Math.floor(((first - layout.firstSample[k]) * bpb) / spb) + (c.offset - blocks * bpb);
    let left = c.length;
    const parts: Buffer[] = [];
    while (left > 0) {
      const end = layout.offsets[k] + this.#bytesOfChunk(track, layout, k, bpb, spb);
      const n = Math.min(left, end - pos);
      if (!(n > 0)) throw new HintError(`constructor reads past the data of chunk ${k + 1} of track ${track.id}`);
      parts.push(await reader.read({ index: first, offset: pos, size: n, dts: 0, cts: 0, sync: true }));
      left -= n;
      if (left > 0) {
        if (++k >= layout.offsets.length) throw new HintError(`constructor reads past the last chunk of track ${track.id}`);
        pos = layout.offsets[k];
      }
    }
    return parts;
  }

  #layout(track: Mp4Track): ChunkLayout {
    let l = this.#layouts.get(track);
    if (!l) {
      if (!track.chunks) throw new HintError(`track ${track.id} has no chunk table for block-addressed data`);
      l = track.chunks();
      if (l.offsets.length === 0) throw new HintError(`track ${track.id} has no chunks`);
      this.#layouts.set(track, l);
    }
    return l;
  }

  #bytesOfChunk(track: Mp4Track, layout: ChunkLayout, k: number, bpb: number, spb: number): number {
    const key = `${track.id}:${k}:${bpb}:${spb}`;
    let n = this.#chunkBytes.get(key);
    if (n === undefined) {
      let sizes = 0;
      const start = layout.firstSample[k];
      for (let i = start; i < start + layout.counts[k]; i++) sizes += track.sample(i).size;
      n = Math.floor((sizes * bpb) / spb);
      if (this.#chunkBytes.size >= MAX_CACHED_CHUNKS) this.#chunkBytes.clear();
      this.#chunkBytes.set(key, n);
    }
    return n;
  }

  #descriptionBytes(c: SampleDescriptionConstructor): Buffer {
    const track = this.#track(c.trackRef);
    const entry = track.sampleEntries?.[c.descriptionIndex - 1];
    if (!entry) throw new HintError(`constructor names sample description ${c.descriptionIndex} of track ${track.id}, which is not available`);
    if (c.offset + c.length > entry.length) {
      throw new HintError(`constructor wants bytes past the end of sample description ${c.descriptionIndex} of track ${track.id}`);
    }
    return entry.subarray(c.offset, c.offset + c.length);
  }
}

/** Index of the chunk holding sample `index`. */
function chunkOf(layout: ChunkLayout, index: number): number {
  let lo = 0;
  let hi = layout.firstSample.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (layout.firstSample[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  if (index >= layout.firstSample[lo] + layout.counts[lo]) throw new HintError(`sample ${index + 1} is in no chunk`);
  return lo;
}

/** Our RTP header writer sets neither the X nor the P bit, so a header extension or padding the
 * hint describes as part of the packet is taken out of the payload rather than sent as payload. */
function withoutHeaderExtras(p: RtpPayload, pkt: HintPacket): RtpPayload {
  let bytes = Buffer.concat(p.parts, p.length);
  if (pkt.extension) {
    const ext = bytes.length >= 4 ? 4 + bytes.readUInt16BE(2) * 4 : Infinity;
    if (ext > bytes.length) throw new HintError('packet with the X bit is shorter than its header extension');
    bytes = bytes.subarray(ext);
  }
  if (pkt.padding) {
    const pad = bytes.length ? bytes[bytes.length - 1] : 0;
    if (pad === 0 || pad > bytes.length) throw new HintError('packet with the P bit has invalid padding');
    bytes = bytes.subarray(0, bytes.length - pad);
  }
  const out: RtpPayload = { parts: [bytes], length: bytes.length, marker: p.marker };
  if (p.timestampOffset) out.timestampOffset = p.timestampOffset;
  return out;
}
