/** The CSeq header (RFC 2326 §12.17): the request's sequence number, echoed in its response. */

import { HeaderError } from '../../net/index.js';

/** Parses a CSeq value (1*DIGIT, surrounding whitespace allowed). Values beyond 2^53 cannot be
 * represented exactly and are refused; echo the raw header string when exactness matters. */
export function parseCSeq(value: string): number {
  const v = value.trim();
  if (!/^\d{1,15}$/.test(v)) throw new HeaderError('CSeq', 'invalid sequence number');
  return Number(v);
}
