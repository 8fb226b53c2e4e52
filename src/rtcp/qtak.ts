/** QuickTime's reliable UDP acknowledgements (DSS "Skip Protection"): an RTCP APP packet named
 * `qtak` (QuickTime 5 and older: `ack `) whose data is
 *
 *   [SSRC of the acknowledged stream][16-bit reserved][16-bit seq][bitmask, 32-bit multiples]
 *
 * acknowledging `seq`, and `seq + 1 + i` for every bit i set in the mask (MSB of its first byte
 * first). A zero bit says nothing (it is not a NAK). The APP header is parsed by
 * `parseRtcpCompound`; this reads its data and never throws on hostile input. */
import { buildApp } from './build.js';
import type { RtcpApp } from './types.js';

/** One acknowledgement: the receiver `ssrc` got these packets of the stream `mediaSsrc`. */
export interface QtAck {
  /** SSRC of the packet's sender (the receiver acknowledging). */
  ssrc: number;
  /** SSRC of the stream the acknowledged packets belong to. */
  mediaSsrc: number;
  /** Sequence numbers acknowledged, the first one first; at most `MAX_ACK_SEQS`. */
  seqs: number[];
}

/** Sequence numbers one ack may acknowledge: a datagram's mask could name ~11 000, more than a
 * window of packets; the rest of a larger mask is ignored. */
export const MAX_ACK_SEQS = 2048;

/** The names QuickTime acknowledgements go by. */
export function isQtAckName(name: string): boolean {
  return name === 'qtak' || name === 'ack ';
}

/** The acknowledgement an APP packet carries, or undefined when it is no `qtak`/`ack ` or its data
 * is too short (8 bytes at least). A mask not a multiple of 32 bits is read up to its last whole
 * 32-bit word. */
export function parseQtAck(app: RtcpApp): QtAck | undefined {
  if (!isQtAckName(app.name)) return undefined;
  const d = app.data;
  if (d.length < 8) return undefined;
  const seq = d.readUInt16BE(6);
  const seqs = [seq];
  const maskEnd = 8 + Math.floor((d.length - 8) / 4) * 4;
  for (let p = 8; p < maskEnd && seqs.length < MAX_ACK_SEQS; p++) {
    const byte = d[p];
    if (byte === 0) continue;
    for (let b = 0; b < 8 && seqs.length < MAX_ACK_SEQS; b++) {
      if (byte & (0x80 >> b)) seqs.push((seq + 1 + (p - 8) * 8 + b) & 0xffff);
    }
  }
  return { ssrc: app.ssrc, mediaSsrc: app.data.readUInt32BE(0), seqs };
}

export interface QtAckInit {
  /** SSRC of the receiver sending it. */
  ssrc: number;
  /** SSRC of the stream acknowledged. */
  mediaSsrc: number;
  /** First sequence number acknowledged. */
  seq: number;
  /** Further packets acknowledged: bit i (MSB first) stands for seq + 1 + i; padded to 32 bits. */
  mask?: readonly boolean[];
  /** `ack ` (QuickTime 5) instead of `qtak`. */
  oldName?: boolean;
}

/** A `qtak` APP packet (what a reliable UDP client sends; the server's tests send it). */
export function buildQtAck(init: QtAckInit): Buffer {
  const mask = init.mask ?? [];
  const maskBytes = Math.ceil(mask.length / 32) * 4;
  const data = Buffer.alloc(8 + maskBytes);
  data.writeUInt32BE(init.mediaSsrc >>> 0, 0);
  data.writeUInt16BE(init.seq & 0xffff, 6);
  mask.forEach((on, i) => {
    if (on) data[8 + (i >> 3)] |= 0x80 >> (i & 7);
  });
  return buildApp({ ssrc: init.ssrc, subtype: 0, name: init.oldName ? 'ack ' : 'qtak', data });
}
