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
import type { Mp4Movie, Mp4Track } from '../media/mp4/types.js';
import type { StreamDescription } from '../stream/types.js';
import { PCM_SAMPLE_ENTRIES } from '../codecs/pcm/index.js';
import {
  describeAmr,
  describeH263,
  describeIma,
  describeMp4v,
  describeMpa,
  describeOpus,
  describePcm,
  MPEG_AUDIO_OBJECT_TYPES,
  notStreamedReason,
  videoTrack,
} from './codec-tracks.js';
import { describeHintTracks } from './hint-track.js';
import type { SkippedTrack, VodPresentation, VodTrack } from './types.js';

export interface DescribeOptions {
  /** Stream a hinted track from its RTP hint track (default true, as QTSS did). When false it is
   * packetized natively, and its hint track is used only for a codec Rivulet cannot packetize. */
  preferHintTracks?: boolean;
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
      return videoTrack(
        t,
        base,
        h264Format({ payloadType, sps: c.sps, pps: c.pps }),
        (maxPayloadSize) => new H264Packetizer({ nalLengthSize: c.nalLengthSize, maxPayloadSize }),
      );
    }
    case 'hvc1':
    case 'hev1': {
      if (!t.hvcC) return 'H.265 track without hvcC configuration';
      const c = parseHevcDecoderConfig(t.hvcC);
      if (!c) return 'unreadable hvcC (H.265 configuration)';
      return videoTrack(
        t,
        base,
        h265Format({ payloadType, vps: c.vps, sps: c.sps, pps: c.pps }),
        (maxPayloadSize) => new H265Packetizer({ nalLengthSize: c.nalLengthSize, maxPayloadSize }),
      );
    }
    case 'mp4a': {
      const e = t.esds;
      if (!e) return 'MPEG-4 audio track without esds';
      if (MPEG_AUDIO_OBJECT_TYPES.has(e.objectTypeIndication)) return describeMpa(t, base);
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
          format: aacFormat({
            payloadType,
            sampleRate,
            channels,
            audioSpecificConfig: e.decoderSpecificInfo,
          }),
        },
        createPacketizer: (maxPayloadSize) => new AacPacketizer({ maxPayloadSize }),
      };
    }
    case 'mp4v':
      return describeMp4v(t, base, payloadType);
    case 's263':
    case 'h263':
    case 'H263':
      return describeH263(t, base, payloadType);
    case 'samr':
    case 'sawb':
      return describeAmr(t, base, payloadType);
    case 'Opus':
      return describeOpus(t, base, payloadType);
    case '.mp3':
    case 'mpga':
      return describeMpa(t, base);
    case 'ima4':
    case 'dvi ':
      return describeIma(t, base, payloadType);
    default:
      if (PCM_SAMPLE_ENTRIES.has(t.codec)) return describePcm(t, base, payloadType);
      return notStreamedReason(t.codec);
  }
}

export function describeMovie(
  movie: Mp4Movie,
  name = basename(movie.path),
  opts: DescribeOptions = {},
): VodPresentation {
  const preferHints = opts.preferHintTracks ?? true;
  const hints = describeHintTracks(movie);
  const tracks: VodTrack[] = [];
  const skipped: SkippedTrack[] = [...hints.skipped];
  let hinted = false;
  let pt = 96;
  for (const t of movie.tracks) {
    // Hint tracks are reported through `hints`, and stand in for the media track they hint.
    if (t.handler === 'hint') continue;
    const hint = hints.byMedia.get(t.id);
    let r: VodTrack | string | undefined;
    if (!hint || !preferHints) {
      if (t.handler !== 'vide' && t.handler !== 'soun') {
        r = `'${t.handler}' track is not streamed`;
      } else {
        try {
          r = describeTrack(t, pt);
        } catch (e) {
          r = `unreadable codec configuration: ${(e as Error).message}`;
        }
      }
    }
    const native = typeof r === 'object';
    if (native) {
      tracks.push(r as VodTrack);
      pt++;
      if (hint) {
        skipped.push({
          id: hint.description.id,
          codec: hint.mp4.codec,
          reason: `hint track of track ${t.id} not used: vod.preferHintTracks is false`,
        });
      }
    } else if (hint) {
      tracks.push(hint);
      hinted = true;
    } else {
      skipped.push({ id: t.id, codec: t.codec, reason: typeof r === 'string' ? r : 'not streamed' });
    }
    for (const b of hints.broken.get(t.id) ?? []) {
      const instead =
        hint && !native
          ? `hint track ${hint.description.id} is used instead`
          : native
            ? `track ${t.id} is packetized natively instead`
            : `track ${t.id} cannot be packetized natively either`;
      skipped.push({
        id: b.id,
        codec: b.codec,
        reason: `broken RTP hint track for track ${t.id} (${b.reason}); ${instead}`,
      });
    }
  }
  const stream: StreamDescription = {
    name,
    duration: movie.duration,
    tracks: tracks.map((t) => t.description),
  };
  if (hinted && movie.hintSdp) stream.sessionSdp = movie.hintSdp;
  return { movie, stream, tracks, skipped };
}

/** Why each left-out track is not streamed, in one line: the 415 answer, its log line and
 * `rivulet inspect` all say it this way. */
export function skippedSummary(skipped: readonly SkippedTrack[]): string {
  return skipped.map((s) => `track ${s.id} (${s.codec.trim()}): ${s.reason}`).join('; ');
}
