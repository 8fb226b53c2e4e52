/** A live audio track's frames as the byte stream an ICY (SHOUTcast/Icecast) listener receives:
 * MP3 frames, ADTS-framed AAC, or Ogg/Opus pages. One `AudioBytes` per track, so each frame's
 * bytes are built once (`frame.form(bytes.form)`) and shared by every listener. */

import { adtsHeader, type AdtsConfig } from '../codecs/aac/adts.js';
import { AacDepacketizer } from '../codecs/aac/depacketizer.js';
import { parseAudioSpecificConfig } from '../codecs/aac/format.js';
import { MpaDepacketizer } from '../codecs/mpa/depacketizer.js';
import { OggOpusWriter, opusPacketSamples } from '../codecs/opus/ogg.js';
import type { Frame, FrameForm } from '../core/frame.js';
import type { StreamTrack } from '../core/stream-track.js';
import { readRtpHeader, type RtpHeader } from '../rtp/packet.js';
import { seqDiff, tsDiff } from '../rtp/seq.js';
import type { AudioCodec } from '../sources/audio-feed.js';
import type { Format } from '../stream/types.js';

export interface AudioBytes {
  codec: AudioCodec;
  /** What the listener's response says it is. */
  contentType: 'audio/mpeg' | 'audio/aac' | 'audio/ogg';
  /** Bytes a new listener needs before any frame: the Ogg OpusHead and OpusTags pages; empty for
   * MP3 and AAC, which are self-describing. The same buffer at each call. */
  header(): Buffer;
  /** A frame's audio as bytes: whole MPEG frames, ADTS frames, or one Ogg page. Empty while the
   * frame only holds part of a fragmented audio frame (it comes whole with the last part). */
  form: FrameForm;
}

const EMPTY = Buffer.alloc(0);
const bytesOfTrack = new WeakMap<StreamTrack, AudioBytes | null>();

/** The byte-stream form of a live track whose format is MPA, MPEG4-GENERIC (AAC with AU headers
 * and a config ADTS can carry) or opus; undefined for anything else. */
export function audioBytesOf(track: StreamTrack): AudioBytes | undefined {
  let bytes = bytesOfTrack.get(track);
  if (bytes === undefined) {
    bytes = makeAudioBytes(track.format) ?? null;
    bytesOfTrack.set(track, bytes);
  }
  return bytes ?? undefined;
}

/** Calls `each` with every well-formed RTP packet's payload and header, in order. */
function payloads(frame: Frame, each: (payload: Buffer, h: RtpHeader) => void): void {
  for (const p of frame.packets) {
    const h = readRtpHeader(p);
    if (h) each(p.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength), h);
  }
}

function joined(parts: Buffer[]): Buffer {
  return parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

function makeAudioBytes(format: Format): AudioBytes | undefined {
  const name = format.encodingName.toUpperCase();
  if (name === 'MPA') return mpaBytes();
  if (name === 'MPEG4-GENERIC') return aacBytes(format);
  if (name === 'OPUS') return opusBytes(format);
  return undefined;
}

/** RFC 2250: payloads joined back into whole MPEG audio frames. The depacketizer lives as long as
 * the track: the track makes a frame of each packet, so a fragmented frame spans frames. */
function mpaBytes(): AudioBytes {
  const d = new MpaDepacketizer();
  return selfDescribing('mp3', 'audio/mpeg', (payload, h, out) => {
    for (const f of d.push(payload, h)) out.push(f.data);
  });
}

/** A form with no header (MP3, ADTS): what `each` makes of the frame's payloads, joined. */
function selfDescribing(
  codec: AudioCodec,
  contentType: AudioBytes['contentType'],
  each: (payload: Buffer, h: RtpHeader, out: Buffer[]) => void,
): AudioBytes {
  return {
    codec,
    contentType,
    header: () => EMPTY,
    form(frame) {
      const out: Buffer[] = [];
      payloads(frame, (payload, h) => each(payload, h, out));
      return joined(out);
    },
  };
}

/** fmtp parameter by name, whatever case the publisher's SDP used. */
function fmtpOf(format: Format, name: string): string | undefined {
  for (const [k, v] of Object.entries(format.fmtp)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function fmtpInt(format: Format, name: string, dflt: number): number {
  const v = fmtpOf(format, name);
  return v === undefined || !/^\d+$/.test(v) ? dflt : Number(v);
}

/** RFC 3640: each AU from the AU headers, behind an ADTS header made from the fmtp config. */
function aacBytes(format: Format): AudioBytes | undefined {
  const hex = fmtpOf(format, 'config');
  const sizeLength = fmtpInt(format, 'sizelength', 0);
  const asc = hex && /^([0-9a-f]{2})+$/i.test(hex) ? parseAudioSpecificConfig(Buffer.from(hex, 'hex')) : null;
  if (!asc || sizeLength === 0 || sizeLength > 16) return undefined;
  const config: AdtsConfig = asc;
  try {
    adtsHeader(config, 1);
  } catch {
    return undefined; // a config ADTS cannot say (e.g. a program config element)
  }
  const d = new AacDepacketizer({
    sizeLength,
    indexLength: Math.min(16, fmtpInt(format, 'indexlength', 0)),
    indexDeltaLength: Math.min(16, fmtpInt(format, 'indexdeltalength', 0)),
  });
  return selfDescribing('aac', 'audio/aac', (payload, h, out) => {
    for (const au of d.push(payload, h)) {
      // An AU over ADTS' 13-bit length is corrupt input: that AU is left out.
      if (au.data.length === 0 || au.data.length + 7 > 0x1fff) continue;
      out.push(adtsHeader(config, au.data.length), au.data);
    }
  });
}

/** Pre-skip announced to listeners: RTP does not carry the source's, and libopus' 312 samples is
 * what nearly every encoder uses at 48 kHz. */
const OPUS_PRE_SKIP = 312;

/** RFC 7587 → RFC 7845: the frame's Opus packets as one Ogg page. Page sequence numbers continue
 * per track: 2 (after the header pages) plus the frame's RTP sequence number counted from the
 * first frame this track made a page of; the granule is the frame's RTP time (48 kHz) counted
 * the same way, plus the frame's samples. Both are unwrapped past the RTP counters' wrap and do
 * not depend on the order frames are built in (a burst may build older frames later). */
function opusBytes(format: Format): AudioBytes {
  const stereo = fmtpOf(format, 'sprop-stereo');
  const rate = fmtpInt(format, 'sprop-maxcapturerate', 48000);
  const writer = new OggOpusWriter({
    channels: stereo === '0' ? 1 : 2,
    preSkip: OPUS_PRE_SKIP,
    inputSampleRate: rate,
  });
  let last: { ts: number; seq: number } | undefined;
  let position = 0n;
  let sequence = 2;
  return {
    codec: 'ogg-opus',
    contentType: 'audio/ogg',
    header: () => writer.headers,
    form(frame) {
      const packets: Buffer[] = [];
      let samples = 0;
      payloads(frame, (payload) => {
        if (payload.length === 0) return;
        packets.push(payload);
        samples += opusPacketSamples(payload);
      });
      if (packets.length === 0) return EMPTY;
      if (last) {
        position += BigInt(tsDiff(frame.ts, last.ts));
        sequence += seqDiff(frame.firstSeq, last.seq);
      }
      last = { ts: frame.ts, seq: frame.firstSeq };
      const granule = position + BigInt(samples);
      return writer.pages(packets, granule < 0n ? 0n : granule, sequence >>> 0);
    },
  };
}
