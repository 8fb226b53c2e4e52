/** H.263 RTP packetizer, RFC 4629 (`H263-1998` / `H263-2000`). Every packet starts with the
 * 16-bit payload header of §5.1:
 *
 *   | RR (5) | P | V | PLEN (6) | PEBIT (3) |
 *
 * P=1 when the packet starts at a picture, GOB or slice start code; the start code's two leading
 * zero bytes are then left out (the receiver puts them back). Packets that continue a segment
 * ("follow-on", §6.2) have P=0. V, PLEN and PEBIT are 0: no VRC and no extra picture header. A
 * picture larger than one packet is cut before a start code when one falls inside the packet,
 * else at the size limit; the marker bit is set on the picture's last packet (§5.1). */

import { DEFAULT_MAX_PAYLOAD_SIZE, checkMaxPayloadSize } from '../common/payload-size.js';
import { h263StartCode, pieceEnd } from '../common/sync-split.js';
import type { Packetizer, RtpPayload } from '../types.js';

const HEADER_SIZE = 2;
/** Shared, never modified: P=1 and P=0 payload headers. */
const HEADER_P = Buffer.from([0x04, 0x00]);
const HEADER_FOLLOW_ON = Buffer.from([0x00, 0x00]);

export interface H263PacketizerOptions {
  /** Largest RTP payload, excluding the 12-byte RTP header. Default 1400. */
  maxPayloadSize?: number;
}

export class H263Packetizer implements Packetizer {
  readonly #max: number;

  constructor(options: H263PacketizerOptions = {}) {
    this.#max = checkMaxPayloadSize(options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE, HEADER_SIZE + 1);
  }

  /** One coded picture (a 3GP `s263` sample, starting with its picture start code). */
  packetize(picture: Buffer): RtpPayload[] {
    const out: RtpPayload[] = [];
    const capacity = this.#max - HEADER_SIZE;
    let pos = 0;
    while (pos < picture.length) {
      const sync = h263StartCode(picture, pos);
      // With P=1 the two zero bytes travel implicitly, so the packet covers two more input bytes.
      const end = pieceEnd(picture, pos, sync ? capacity + 2 : capacity, h263StartCode);
      const data = picture.subarray(sync ? pos + 2 : pos, end);
      out.push({
        parts: [sync ? HEADER_P : HEADER_FOLLOW_ON, data],
        length: HEADER_SIZE + data.length,
        marker: end === picture.length,
      });
      pos = end;
    }
    return out;
  }
}
