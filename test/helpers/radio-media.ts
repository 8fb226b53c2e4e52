/** Short tagged audio files for radio tests (playlists on air, file sources), made with ffmpeg:
 * a sine tone with title and artist tags (ID3v2 for MP3 and ADTS AAC, Vorbis comments for
 * Ogg/Opus, iTunes tags for .m4a). */
import { join } from 'node:path';
import { run } from './run.js';

export interface RadioTrackSpec {
  /** File name; its extension picks the format: .mp3, .aac (ADTS), .m4a, .ogg/.opus (Opus). */
  name: string;
  title?: string;
  artist?: string;
  seconds: number;
  /** Tone frequency (default 440 Hz). */
  hz?: number;
  /** Default 44100 (48000 for Opus). */
  sampleRate?: number;
  /** Default 2. */
  channels?: number;
  /** Default '128k' ('96k' for Opus). */
  bitrate?: string;
}

const FORMATS: Record<string, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-id3v2_version', '3', '-f', 'mp3'],
  aac: ['-c:a', 'aac', '-write_id3v2', '1', '-f', 'adts'],
  m4a: ['-c:a', 'aac', '-f', 'ipod'],
  ogg: ['-c:a', 'libopus', '-f', 'ogg'],
  opus: ['-c:a', 'libopus', '-f', 'ogg'],
};

/** Makes `spec` in `dir`; returns its path. Throws with ffmpeg's log when it fails. */
export async function makeRadioTrack(dir: string, spec: RadioTrackSpec): Promise<string> {
  const ext = spec.name.split('.').pop()?.toLowerCase() ?? '';
  const format = FORMATS[ext];
  if (!format) throw new Error(`makeRadioTrack: unknown extension in ${spec.name}`);
  const opus = format.includes('libopus');
  const rate = spec.sampleRate ?? (opus ? 48000 : 44100);
  const path = join(dir, spec.name);
  const tags = [
    ...(spec.title !== undefined ? ['-metadata', `title=${spec.title}`] : []),
    ...(spec.artist !== undefined ? ['-metadata', `artist=${spec.artist}`] : []),
  ];
  const r = await run(
    'ffmpeg',
    [
      '-hide_banner', '-v', 'error', '-y',
      '-f', 'lavfi', '-i', `sine=frequency=${spec.hz ?? 440}:sample_rate=${rate}:duration=${spec.seconds}`,
      '-ac', String(spec.channels ?? 2), '-b:a', spec.bitrate ?? (opus ? '96k' : '128k'),
      ...tags, ...format, path,
    ],
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new Error(`ffmpeg could not make ${spec.name} (${r.code}): ${r.stderr.slice(-2000)}`);
  return path;
}
