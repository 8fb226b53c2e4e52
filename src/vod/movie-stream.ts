/** Turns a parsed movie into a StreamDescription plus, per playable track, what the player needs
 * to packetize it. Tracks in codecs not streamed yet are left out with a reason. */
import { basename } from 'node:path';
import {
  AacPacketizer,
  aacFormat,
  H264Packetizer,
  h264Format,
  H265Packetizer,
  h265Format,
  parseAudioSpecificConfig,
  parseAvcDecoderConfig,
  parseHevcDecoderConfig,
} from '../codecs/index.js';
import type { Packetizer } from '../codecs/types.js';
import type { Mp4Movie, Mp4Track } from '../media/mp4/types.js';
import type { StreamDescription, Track } from '../stream/types.js';

export interface VodTrack {
  description: Track;
  mp4: Mp4Track;
  kind: 'video' | 'audio';
  /** RTP clock rate of the payload format. */
  clockRate: number;
  createPacketizer(maxPayloadSize: number): Packetizer;
}

export interface SkippedTrack {
  id: number;
  codec: string;
  reason: string;
}

export interface VodPresentation {
  movie: Mp4Movie;
  stream: StreamDescription;
  tracks: VodTrack[];
  skipped: SkippedTrack[];
}

const AAC_OBJECT_TYPES = new Set([0x40, 0x66, 0x67, 0x68]);

function trackSeconds(t: Mp4Track): number {
  return t.timescale > 0 ? t.duration / t.timescale : 0;
}

function bitrateKbps(t: Mp4Track): number | undefined {
  const s = trackSeconds(t);
  return s > 0 ? (t.totalBytes * 8) / s / 1000 : undefined;
}

function describeTrack(t: Mp4Track, payloadType: number): VodTrack | string {
  if (t.sampleCount === 0) return 'track has no samples';
  const base = { id: t.id, control: `trackID=${t.id}`, bitrateKbps: bitrateKbps(t) };
  switch (t.codec) {
    case 'avc1':
    case 'avc3': {
      if (!t.avcC) return 'H.264 track without avcC configuration';
      const c = parseAvcDecoderConfig(t.avcC);
      if (!c) return 'unreadable avcC (H.264 configuration)';
      const secs = trackSeconds(t);
      return {
        kind: 'video',
        mp4: t,
        clockRate: 90000,
        description: {
          ...base,
          width: t.width,
          height: t.height,
          frameRate: secs > 0 ? t.sampleCount / secs : undefined,
          format: h264Format({ payloadType, sps: c.sps, pps: c.pps }),
        },
        createPacketizer: (maxPayloadSize) => new H264Packetizer({ nalLengthSize: c.nalLengthSize, maxPayloadSize }),
      };
    }
    case 'hvc1':
    case 'hev1': {
      if (!t.hvcC) return 'H.265 track without hvcC configuration';
      const c = parseHevcDecoderConfig(t.hvcC);
      if (!c) return 'unreadable hvcC (H.265 configuration)';
      const secs = trackSeconds(t);
      return {
        kind: 'video',
        mp4: t,
        clockRate: 90000,
        description: {
          ...base,
          width: t.width,
          height: t.height,
          frameRate: secs > 0 ? t.sampleCount / secs : undefined,
          format: h265Format({ payloadType, vps: c.vps, sps: c.sps, pps: c.pps }),
        },
        createPacketizer: (maxPayloadSize) => new H265Packetizer({ nalLengthSize: c.nalLengthSize, maxPayloadSize }),
      };
    }
    case 'mp4a': {
      const e = t.esds;
      if (!e) return 'MPEG-4 audio track without esds';
      if (!AAC_OBJECT_TYPES.has(e.objectTypeIndication)) {
        return `MPEG-4 audio object type 0x${e.objectTypeIndication.toString(16)} is not AAC (not streamed yet)`;
      }
      if (e.decoderSpecificInfo.length < 2) return 'AAC track without AudioSpecificConfig';
      const asc = parseAudioSpecificConfig(e.decoderSpecificInfo);
      if (!asc) return 'unreadable AudioSpecificConfig';
      const sampleRate = asc.sampleRate || t.sampleRate || t.timescale;
      const channels = asc.channels || t.channels || 2;
      return {
        kind: 'audio',
        mp4: t,
        clockRate: sampleRate,
        description: {
          ...base,
          format: aacFormat({ payloadType, sampleRate, channels, audioSpecificConfig: e.decoderSpecificInfo }),
        },
        createPacketizer: (maxPayloadSize) => new AacPacketizer({ maxPayloadSize }),
      };
    }
    default:
      return `codec '${t.codec}' is not streamed yet`;
  }
}

export function describeMovie(movie: Mp4Movie, name = basename(movie.path)): VodPresentation {
  const tracks: VodTrack[] = [];
  const skipped: SkippedTrack[] = [];
  let pt = 96;
  for (const t of movie.tracks) {
    if (t.handler !== 'vide' && t.handler !== 'soun') {
      skipped.push({ id: t.id, codec: t.codec, reason: `'${t.handler}' track is not streamed` });
      continue;
    }
    let r: VodTrack | string;
    try {
      r = describeTrack(t, pt);
    } catch (e) {
      r = `unreadable codec configuration: ${(e as Error).message}`;
    }
    if (typeof r === 'string') skipped.push({ id: t.id, codec: t.codec, reason: r });
    else {
      tracks.push(r);
      pt++;
    }
  }
  const stream: StreamDescription = {
    name,
    duration: movie.duration,
    tracks: tracks.map((t) => t.description),
  };
  return { movie, stream, tracks, skipped };
}
