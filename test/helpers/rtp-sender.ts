/** An encoder sending plain RTP (no RTSP), as a `udp://` source takes it: ffmpeg looping a file
 * at its own pace, its video and audio to two RTP URLs, and the SDP it writes for them. */
import { readFileSync } from 'node:fs';
import { until } from './rtsp-client.js';

/** ffmpeg's arguments up to its input: `file` looped at its own pace, only warnings said. */
export function loopedInput(file: string): string[] {
  return ['-hide_banner', '-loglevel', 'warning', '-re', '-stream_loop', '-1', '-i', file];
}

/** ffmpeg's arguments: `file` looped at its own pace, its video to `video` and its audio to
 * `audio` (`rtp://host:port[?ttl=N&rtcpport=P]`), the SDP written to `sdpFile`. */
export function rtpSenderArgs(file: string, video: string, audio: string, sdpFile: string): string[] {
  const copy = (stream: string, url: string) => ['-map', stream, '-c', 'copy', '-f', 'rtp', url];
  return [...loopedInput(file), ...copy('0:v', video), ...copy('0:a', audio), ...['-sdp_file', sdpFile]];
}

/** The SDP ffmpeg wrote to `sdpFile`, once it describes the audio too; throws after `ms` with
 * what the sender said (`log`). */
export async function writtenSdp(sdpFile: string, log: () => string, ms = 15_000): Promise<string> {
  const read = () => {
    try {
      return readFileSync(sdpFile, 'utf8');
    } catch {
      return '';
    }
  };
  if (!(await until(() => read().includes('m=audio'), ms, 50))) {
    throw new Error(`the RTP sender wrote no SDP to ${sdpFile} within ${ms} ms: ${log().slice(-2000)}`);
  }
  return read();
}
