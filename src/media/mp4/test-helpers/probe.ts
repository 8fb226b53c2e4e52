/** ffprobe as the reference the reader's results are compared with. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbePacket {
  stream: number;
  pos: number;
  size: number;
  /** Decode/presentation times in the stream time base, after ffmpeg applied the edit list shift. */
  dts: number;
  pts: number;
  key: boolean;
}

export interface ProbeResult {
  streams: { index: number; codec: string; packets: number; timeBase: number }[];
  duration: number;
  packets: ProbePacket[];
}

interface RawProbe {
  streams: { index: number; codec_name?: string; nb_read_packets: string; time_base: string }[];
  format: { duration: string };
  packets: { stream_index: number; pos: string; size: string; dts: number; pts: number; flags: string }[];
}

export async function probe(file: string): Promise<ProbeResult> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v', 'error', '-count_packets',
      '-show_entries', 'stream=index,codec_name,nb_read_packets,time_base:format=duration:packet=stream_index,pos,size,dts,pts,flags',
      '-of', 'json', file,
    ],
    { maxBuffer: 1 << 26 },
  );
  const raw = JSON.parse(stdout) as RawProbe;
  return {
    streams: raw.streams.map((s) => ({
      index: s.index,
      // ffprobe names no codec for data streams such as RTP hint tracks.
      codec: s.codec_name ?? 'unknown',
      packets: Number(s.nb_read_packets),
      timeBase: Number(s.time_base.split('/')[1]),
    })),
    duration: Number(raw.format.duration),
    packets: raw.packets.map((p) => ({
      stream: p.stream_index,
      pos: Number(p.pos),
      size: Number(p.size),
      dts: p.dts,
      pts: p.pts,
      key: p.flags.startsWith('K'),
    })),
  };
}
