/** The bytes a radio source sends (an Icecast PUT/SOURCE body, SHOUTcast v1 audio, a playlist's
 * file) → RTP packets for a live StreamTrack. Protocol-neutral: the caller reads the socket or
 * file, hands over chunks of any size, and ingests the packets. */

import { AdtsFramer, type AdtsFrame } from '../codecs/aac/adts.js';
import { aacFormat } from '../codecs/aac/format.js';
import { AacPacketizer } from '../codecs/aac/packetizer.js';
import { MpegAudioFramer, type AudioFrame, type SyncFramer } from '../codecs/mpa/framer.js';
import { mpaFormat } from '../codecs/mpa/format.js';
import { MpaPacketizer } from '../codecs/mpa/packetizer.js';
import { opusFormat } from '../codecs/opus/format.js';
import { OggOpusReader, opusTag, type OpusTags } from '../codecs/opus/ogg.js';
import { OpusPacketizer } from '../codecs/opus/packetizer.js';
import type { Packetizer } from '../codecs/types.js';
import { writeRtpPacket } from '../rtp/packet.js';
import { randomUint16, randomUint32 } from '../rtp/seq.js';
import type { Format } from '../stream/types.js';

/** The byte-stream codecs a radio mount carries. */
export type AudioCodec = 'mp3' | 'aac' | 'ogg-opus';

const CONTENT_TYPES: Record<string, AudioCodec> = {
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/mpeg3': 'mp3',
  'audio/aac': 'aac',
  'audio/aacp': 'aac',
  'audio/x-aac': 'aac',
  'audio/ogg': 'ogg-opus',
  'application/ogg': 'ogg-opus',
  'audio/opus': 'ogg-opus',
};

/** The codec of a source's Content-Type (parameters after ';' ignored, any case); undefined for
 * anything else. */
export function audioCodecOf(contentType: string | undefined): AudioCodec | undefined {
  if (!contentType) return undefined;
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  return Object.hasOwn(CONTENT_TYPES, type) ? CONTENT_TYPES[type] : undefined;
}

/** What the first frames say: the track's RTP format and the stream's audio parameters. */
export interface AudioFeedFormat {
  format: Format;
  sampleRate: number;
  channels: number;
  /** From the MPEG audio header of the first frame; undefined for AAC and Opus. */
  bitrateKbps?: number;
}

export interface AudioFeedOptions {
  codec: AudioCodec;
  /** Largest RTP payload (12-byte header excluded). Default 1400. */
  maxPayloadSize?: number;
  /** Bytes held while waiting for a frame's end or a confirming header. Default 64 KiB. */
  maxPendingBytes?: number;
  /** Called once, before the first packet. */
  onFormat(f: AudioFeedFormat): void;
  /** One whole RTP packet (v2, 12-byte header); the feed does not touch it afterwards. */
  onPacket(rtp: Buffer): void;
  /** Now-playing tags the stream itself carries (Ogg/Opus comments). */
  onTags?(t: { title?: string; artist?: string }): void;
}

/** Dynamic payload type for AAC and Opus (MPA has static 14). */
const DYNAMIC_PT = 96;

export class AudioFeed {
  readonly codec: AudioCodec;
  readonly ssrc = randomUint32();
  readonly #opts: AudioFeedOptions;
  readonly #framer: SyncFramer<AudioFrame>;
  #format: AudioFeedFormat | undefined;
  #packetizer: Packetizer | undefined;
  #config: Buffer | undefined;
  #seq = randomUint16();
  #ts = randomUint32();
  /** Samples × clock rate not yet turned into whole ticks (MPA's 90 kHz clock), so the timestamp
   * never drifts from the sample count. */
  #tickRemainder = 0;
  framesIn = 0;
  mismatchedFrames = 0;
  packetsOut = 0;

  constructor(opts: AudioFeedOptions) {
    this.codec = opts.codec;
    this.#opts = opts;
    const framing = { maxPendingBytes: opts.maxPendingBytes };
    if (opts.codec === 'mp3') this.#framer = new MpegAudioFramer(framing);
    else if (opts.codec === 'aac') this.#framer = new AdtsFramer(framing);
    else this.#framer = new OggOpusReader({ ...framing, onTags: (t) => this.#tags(t) });
  }

  /** The format announced, once the first frame came. */
  get format(): AudioFeedFormat | undefined {
    return this.#format;
  }

  get bytesIn(): number {
    return this.#framer.bytesIn;
  }

  /** Bytes dropped by the framer: tags, junk, what its bound cut. */
  get bytesSkipped(): number {
    return this.#framer.bytesSkipped;
  }

  /** Frames the bytes, then sends each frame as RTP packets. */
  push(chunk: Buffer): void {
    for (const f of this.#framer.push(chunk)) this.#frame(f);
  }

  /** The end of the bytes (a file played out, a source gone): sends the last frame, which no
   * header followed to confirm it, and drops what else was pending. */
  flush(): void {
    for (const f of this.#framer.flush()) this.#frame(f);
  }

  /** The next bytes start a new connection (a source back after a drop): what is pending of the
   * old one is dropped; the RTP timeline goes on. */
  reset(): void {
    this.#framer.reset();
  }

  #frame(f: AudioFrame): void {
    this.framesIn++;
    const fmt = this.#format ?? this.#announce(f);
    const config = (f as Partial<AdtsFrame>).audioSpecificConfig;
    // RTP gives one stream one format: other rates, channel counts or AAC configs cannot follow.
    if (
      f.sampleRate !== fmt.sampleRate ||
      f.channels !== fmt.channels ||
      (config && this.#config && !config.equals(this.#config))
    ) {
      this.mismatchedFrames++;
      return;
    }
    const payloads = this.#packetizer!.packetize(f.data);
    const last = payloads.length - 1;
    payloads.forEach((p, k) => {
      this.#opts.onPacket(
        writeRtpPacket(
          { ...p, marker: k === last },
          { payloadType: fmt.format.payloadType, sequence: this.#seq, timestamp: this.#ts, ssrc: this.ssrc },
        ),
      );
      this.#seq = (this.#seq + 1) & 0xffff;
      this.packetsOut++;
    });
    const n = f.samples * fmt.format.clockRate + this.#tickRemainder;
    this.#ts = (this.#ts + Math.floor(n / f.sampleRate)) >>> 0;
    this.#tickRemainder = n % f.sampleRate;
  }

  #announce(f: AudioFrame): AudioFeedFormat {
    const max = this.#opts.maxPayloadSize;
    let format: Format;
    if (this.codec === 'mp3') {
      format = mpaFormat();
      this.#packetizer = new MpaPacketizer({ maxPayloadSize: max });
    } else if (this.codec === 'aac') {
      this.#config = (f as AdtsFrame).audioSpecificConfig;
      format = aacFormat({
        payloadType: DYNAMIC_PT,
        sampleRate: f.sampleRate,
        channels: f.channels,
        audioSpecificConfig: this.#config,
      });
      this.#packetizer = new AacPacketizer({ maxPayloadSize: max });
    } else {
      const head = (this.#framer as OggOpusReader).head;
      format = opusFormat({
        payloadType: DYNAMIC_PT,
        channels: f.channels,
        inputSampleRate: head?.inputSampleRate,
      });
      this.#packetizer = new OpusPacketizer({ maxPayloadSize: max });
    }
    const fmt: AudioFeedFormat = {
      format,
      sampleRate: f.sampleRate,
      channels: f.channels,
      bitrateKbps: f.bitrateKbps,
    };
    this.#format = fmt;
    this.#opts.onFormat(fmt);
    return fmt;
  }

  #tags(t: OpusTags): void {
    const title = opusTag(t, 'TITLE');
    const artist = opusTag(t, 'ARTIST');
    if (title !== undefined || artist !== undefined) this.#opts.onTags?.({ title, artist });
  }
}
