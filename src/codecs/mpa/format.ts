/** SDP description of MPEG audio (RFC 3551 §4.5.13: static payload type 14, `MPA/90000`). */

import type { FormatDescription } from '../types.js';

/** Static payload type 14. The clock is 90 kHz whatever the sampling rate, which, like the
 * channel count, travels in every frame header. */
export const MPA_PAYLOAD_TYPE = 14;

export function mpaFormat(): FormatDescription {
  return { media: 'audio', payloadType: MPA_PAYLOAD_TYPE, encodingName: 'MPA', clockRate: 90000, fmtp: {} };
}
