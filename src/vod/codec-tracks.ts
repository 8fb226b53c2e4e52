/** Stream descriptions for the codecs beyond H.264/H.265/AAC: MPEG-4 Visual, H.263, AMR, MPEG
 * audio, Opus and uncompressed audio, plus the reason each known-but-unstreamable QuickTime codec
 * is left out. Called from describeTrack's codec switch. */
import {
  AmrPacketizer,
  amrFormat,
  H263Packetizer,
  h263Format,
  Mp4vPacketizer,
  mp4vFormat,
  MpaPacketizer,
  mpaFormat,
  OpusPacketizer,
  opusFormat,
  parseD263,
  parseDOps,
  PcmPacketizer,
  pcmBytesPerSample,
  pcmEncodingOf,
  pcmFormat,
  pcmFormatFromSampleEntry,
  decodeImaWav,
  ImaQtDecoder,
} from '../codecs/index.js';
import { PcmBlockTrack } from '../media/audio/pcm-blocks.js';
import type { Mp4Track } from '../media/mp4/types.js';
import type { Track } from '../stream/types.js';
import type { VodTrack } from './types.js';

type Base = Pick<Track, 'id' | 'control' | 'bitrateKbps'>;

/** esds objectTypeIndication of MPEG-4 Visual (ISO/IEC 14496-1 Table 5). */
const OTI_MPEG4_VISUAL = 0x20;
/** MPEG-2 (13818-3) and MPEG-1 (11172-3) audio in an `mp4a` entry: MP3 and MP2 in MP4. */
export const MPEG_AUDIO_OBJECT_TYPES: ReadonlySet<number> = new Set([0x69, 0x6b]);
/** Audio sent in ~20 ms blocks (RFC 3551's default packet time). */
const PCM_BLOCK_SECONDS = 0.02;

function seconds(t: Mp4Track): number {
  return t.timescale > 0 ? t.duration / t.timescale : 0;
}

/** A 90 kHz video track: the SDP detail every video codec shares, plus its format and packetizer. */
export function videoTrack(
  t: Mp4Track,
  base: Base,
  format: Track['format'],
  createPacketizer: VodTrack['createPacketizer'],
): VodTrack {
  const secs = seconds(t);
  return {
    kind: 'video',
    mp4: t,
    clockRate: 90000,
    description: {
      ...base,
      width: t.width,
      height: t.height,
      frameRate: secs > 0 ? t.sampleCount / secs : undefined,
      format,
    },
    createPacketizer,
  };
}

export function describeMp4v(t: Mp4Track, base: Base, payloadType: number): VodTrack | string {
  const e = t.esds;
  if (!e) return 'MPEG-4 video track without esds';
  if (e.objectTypeIndication !== OTI_MPEG4_VISUAL) {
    return `MPEG-4 video object type 0x${e.objectTypeIndication.toString(16)} is not MPEG-4 Visual (not streamed)`;
  }
  return videoTrack(
    t,
    base,
    mp4vFormat({ payloadType, config: e.decoderSpecificInfo }),
    (maxPayloadSize) => new Mp4vPacketizer({ maxPayloadSize }),
  );
}

export function describeH263(t: Mp4Track, base: Base, payloadType: number): VodTrack | string {
  const d263 = t.entryBoxes?.d263;
  const c = d263 ? parseD263(d263) : null;
  return videoTrack(
    t,
    base,
    h263Format({ payloadType, profile: c?.profile, level: c?.level }),
    (maxPayloadSize) => new H263Packetizer({ maxPayloadSize }),
  );
}

export function describeAmr(t: Mp4Track, base: Base, payloadType: number): VodTrack | string {
  const wideband = t.codec === 'sawb';
  const format = amrFormat({ payloadType, wideband });
  return {
    kind: 'audio',
    mp4: t,
    clockRate: format.clockRate,
    description: { ...base, format },
    createPacketizer: (maxPayloadSize) => new AmrPacketizer({ wideband, maxPayloadSize }),
  };
}

export function describeOpus(t: Mp4Track, base: Base, payloadType: number): VodTrack | string {
  const dOps = t.entryBoxes?.dOps;
  const c = dOps ? parseDOps(dOps) : null;
  if (!c) return 'Opus track without a readable dOps box';
  const channels = c.outputChannels || t.channels || 2;
  if (channels > 2 || c.channelMappingFamily > 1) {
    return `Opus with ${channels} channels (mapping family ${c.channelMappingFamily}) has no RTP payload format: RFC 7587 carries mono and stereo only`;
  }
  return {
    kind: 'audio',
    mp4: t,
    clockRate: 48000,
    description: {
      ...base,
      format: opusFormat({ payloadType, channels, inputSampleRate: c.inputSampleRate }),
    },
    createPacketizer: (maxPayloadSize) => new OpusPacketizer({ maxPayloadSize }),
  };
}

/** MPEG-1/2 audio (MP3, MP2): MP3 files, QuickTime `.mp3` entries and MP3 in MP4 (`mp4a` with
 * object type 0x6B or 0x69). Every sample is one frame. */
export function describeMpa(t: Mp4Track, base: Base): VodTrack | string {
  return {
    kind: 'audio',
    mp4: t,
    clockRate: 90000,
    description: { ...base, format: mpaFormat() },
    createPacketizer: (maxPayloadSize) => new MpaPacketizer({ maxPayloadSize }),
  };
}

/** Uncompressed audio: QuickTime `twos`/`sowt`/`raw `/`in24`/`in32`/`lpcm`/`ulaw`/`alaw` tracks and
 * WAV/AIFF/AU files. The track is regrouped into ~20 ms blocks. */
export function describePcm(t: Mp4Track, base: Base, payloadType: number): VodTrack | string {
  const enda = t.entryBoxes?.enda;
  const sound = t.sound;
  let bits = sound?.sampleSize ?? 16;
  if (sound?.version === 1 && sound.bytesPerSample && (t.codec === 'twos' || t.codec === 'sowt'))
    bits = sound.bytesPerSample * 8;
  const fmt = pcmFormatFromSampleEntry(t.codec, bits, {
    flags: sound?.formatFlags,
    littleEndian: enda !== undefined && enda.length >= 2 && enda.readUInt16BE(0) === 1,
  });
  if (typeof fmt !== 'string') return fmt.reason;
  const channels = t.channels ?? 0;
  const rate = Math.round(t.sampleRate || t.timescale);
  if (channels < 1 || rate < 1) return 'uncompressed audio track without channel count or sampling rate';
  if (!t.chunks || !t.decodeTime) return 'uncompressed audio track without a chunk table';
  const blocks = new PcmBlockTrack(
    t,
    pcmBytesPerSample(fmt) * channels,
    Math.max(1, Math.round(rate * PCM_BLOCK_SECONDS)),
  );
  const secs = seconds(t);
  return {
    kind: 'audio',
    mp4: blocks,
    clockRate: rate,
    description: {
      ...base,
      bitrateKbps: secs > 0 ? (blocks.totalBytes * 8) / secs / 1000 : undefined,
      format: pcmFormat({ encoding: pcmEncodingOf(fmt), sampleRate: rate, channels, payloadType }),
    },
    createPacketizer: (maxPayloadSize) =>
      new PcmPacketizer({ format: fmt, channels, sampleRate: rate, maxPayloadSize }),
  };
}

/** IMA ADPCM (QuickTime `ima4`, WAV `dvi `) is decoded to L16: its own RTP format, DVI4, is
 * received by neither ffmpeg nor GStreamer. Blocks of ~20 ms of whole ADPCM packets. */
export function describeIma(t: Mp4Track, base: Base, payloadType: number): VodTrack | string {
  const channels = t.channels ?? 0;
  const rate = Math.round(t.sampleRate || t.timescale);
  if (channels < 1 || rate < 1) return 'IMA ADPCM track without channel count or sampling rate';
  if (!t.chunks || !t.decodeTime) return 'IMA ADPCM track without a chunk table';
  let blocks: PcmBlockTrack;
  /** A decoder per viewer: the QuickTime one carries state from packet to packet. */
  let makeDecoder: () => (data: Buffer) => Buffer;
  if (t.codec === 'dvi ') {
    // WAV: every sample is one block of `bytesPerFrame` bytes holding `samplesPerPacket` frames.
    const blockAlign = t.sound?.bytesPerFrame ?? 0;
    const perBlock = t.sound?.samplesPerPacket ?? 0;
    if (!blockAlign || !perBlock) return 'IMA ADPCM in WAV without a block size';
    blocks = new PcmBlockTrack(t, blockAlign, Math.max(1, Math.round((rate * PCM_BLOCK_SECONDS) / perBlock)));
    makeDecoder = () => (data) => decodeImaWav(data, channels, blockAlign);
  } else {
    // QuickTime writes one sample per 64-frame packet (ffmpeg), or one per frame with 1-byte
    // sizes (QuickTime itself); the decode time step tells which.
    const packet = ImaQtDecoder.PACKET_BYTES * channels;
    const step =
      t.sampleCount > 1
        ? ((t.decodeTime(1) - t.decodeTime(0)) * rate) / t.timescale
        : ImaQtDecoder.PACKET_FRAMES;
    const packets = Math.max(1, Math.round((rate * PCM_BLOCK_SECONDS) / ImaQtDecoder.PACKET_FRAMES));
    if (Math.abs(step - ImaQtDecoder.PACKET_FRAMES) < 0.5) blocks = new PcmBlockTrack(t, packet, packets);
    else if (Math.abs(step - 1) < 0.01) {
      const chunks = t.chunks();
      if (chunks.counts.some((n) => n % ImaQtDecoder.PACKET_FRAMES !== 0))
        return 'IMA 4:1 track whose chunks hold partial packets';
      blocks = new PcmBlockTrack(
        t,
        packet / ImaQtDecoder.PACKET_FRAMES,
        packets * ImaQtDecoder.PACKET_FRAMES,
      );
    } else return `IMA 4:1 track with an unexpected sample duration (${step.toFixed(2)} frames)`;
    makeDecoder = () => {
      const decoder = new ImaQtDecoder(channels);
      return (data) => decoder.decode(data);
    };
  }
  const secs = seconds(t);
  return {
    kind: 'audio',
    mp4: blocks,
    clockRate: rate,
    description: {
      ...base,
      bitrateKbps: secs > 0 ? (blocks.totalBytes * 8) / secs / 1000 : undefined,
      format: pcmFormat({ encoding: 'L16', sampleRate: rate, channels, payloadType }),
    },
    // The QuickTime decoder carries state from packet to packet.
    statefulPacketizer: true,
    createPacketizer: (maxPayloadSize) => {
      const pcm = new PcmPacketizer({ format: 's16be', channels, sampleRate: rate, maxPayloadSize });
      const decode = makeDecoder();
      return { packetize: (data: Buffer) => pcm.packetize(decode(data)) };
    },
  };
}

/** Why codecs found in QuickTime, 3GP and AVI-era libraries are not streamed, for the log, the 415
 * answer and `rivulet inspect`. */
const NOT_STREAMED: Record<string, string> = {
  MAC3: 'MACE 3:1 has no RTP payload format',
  MAC6: 'MACE 6:1 has no RTP payload format',
  QDM2: 'QDesign Music 2 has no standard RTP payload format',
  QDMC: 'QDesign Music has no standard RTP payload format',
  Qclp: 'QUALCOMM PureVoice (QCELP) is not streamed yet',
  sqcp: 'QCELP is not streamed yet',
  SVQ1: 'Sorenson Video has no standard RTP payload format',
  SVQ3: 'Sorenson Video 3 has no standard RTP payload format',
  cvid: 'Cinepak has no RTP payload format',
  'rle ': 'QuickTime Animation has no RTP payload format',
  smc: 'QuickTime Graphics has no RTP payload format',
  rpza: 'Apple Video has no RTP payload format',
  jpeg: 'Photo JPEG (RFC 2435) is not streamed yet',
  mjpa: 'Motion JPEG A (RFC 2435) is not streamed yet',
  mjpb: 'Motion JPEG B is not streamed yet',
  h261: 'H.261 (RFC 4587) is not streamed yet',
  mp1v: 'MPEG-1 video (RFC 2250) is not streamed yet',
  mp2v: 'MPEG-2 video is not streamed yet',
  'ac-3': 'AC-3 (RFC 4184) is not streamed yet',
  alac: 'Apple Lossless has no RTP payload format',
  fLaC: 'FLAC has no RTP payload format',
  vp08: 'VP8 (RFC 7741) is not streamed yet',
  vp09: 'VP9 is not streamed yet',
  av01: 'AV1 is not streamed yet',
  msad: 'Microsoft ADPCM has no RTP payload format',
  'gsm ': 'GSM 6.10 in WAV is not streamed',
  'wav-mp3': 'MP3 inside a WAV file is not streamed (extract it: ffmpeg -i in.wav -c copy out.mp3)',
  'wav-mpga': 'MPEG audio inside a WAV file is not streamed (extract it: ffmpeg -i in.wav -c copy out.mp2)',
  g721: 'G.721 ADPCM is not streamed',
  g722: 'G.722 (in .au) is not streamed yet',
  g723: 'G.723 ADPCM (in .au) is not streamed',
};

export function notStreamedReason(codec: string): string {
  return NOT_STREAMED[codec] ?? NOT_STREAMED[codec.trim()] ?? `codec '${codec}' is not streamed yet`;
}
