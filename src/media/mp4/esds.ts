/** The MPEG-4 elementary stream descriptor carried in an 'esds' box (ISO 14496-1 §7.2.6). Only the
 * fields a streaming server needs are kept: the object type, bitrates and DecoderSpecificInfo. */
import { Cursor } from './boxes.js';
import { Mp4Error } from './types.js';

export interface EsdsInfo {
  objectTypeIndication: number;
  decoderSpecificInfo: Buffer;
  avgBitrate: number;
  maxBitrate: number;
}

const ES_DESCRIPTOR = 3;
const DECODER_CONFIG = 4;
const DECODER_SPECIFIC_INFO = 5;

/** Tag plus a cursor over the descriptor body. The length uses 7 bits per byte with the top bit
 * meaning "more follows", at most 4 bytes (writers often pad short lengths to 4 bytes). */
function readDescriptor(c: Cursor): { tag: number; body: Cursor } {
  const tag = c.u8();
  let len = 0;
  for (let i = 0; i < 4; i++) {
    const b = c.u8();
    len = len * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) break;
  }
  return { tag, body: c.sub(len, `descriptor ${tag}`) };
}

function parseDecoderConfig(c: Cursor): EsdsInfo {
  const objectTypeIndication = c.u8();
  c.skip(1 + 3); // streamType/upStream, bufferSizeDB
  const maxBitrate = c.u32();
  const avgBitrate = c.u32();
  let decoderSpecificInfo: Buffer = Buffer.alloc(0);
  while (c.remaining >= 2) {
    const d = readDescriptor(c);
    if (d.tag === DECODER_SPECIFIC_INFO) {
      // Copied so the parsed movie does not pin the whole moov buffer in memory.
      decoderSpecificInfo = Buffer.from(d.body.bytes(d.body.remaining));
      break;
    }
  }
  return { objectTypeIndication, decoderSpecificInfo, avgBitrate, maxBitrate };
}

function parseEsDescriptor(c: Cursor): EsdsInfo | undefined {
  c.skip(2); // ES_ID
  const flags = c.u8();
  if (flags & 0x80) c.skip(2); // dependsOn_ES_ID
  if (flags & 0x40) c.skip(c.u8()); // URL
  if (flags & 0x20) c.skip(2); // OCR_ES_Id
  while (c.remaining >= 2) {
    const d = readDescriptor(c);
    if (d.tag === DECODER_CONFIG) return parseDecoderConfig(d.body);
  }
  return undefined;
}

/** Parses the descriptors of an esds box body that follow its version/flags word. */
export function parseEsdsDescriptors(c: Cursor): EsdsInfo {
  while (c.remaining >= 2) {
    const d = readDescriptor(c);
    // Some writers omit the ES_Descriptor wrapper and start with the DecoderConfigDescriptor.
    const info =
      d.tag === ES_DESCRIPTOR ? parseEsDescriptor(d.body) : d.tag === DECODER_CONFIG ? parseDecoderConfig(d.body) : undefined;
    if (info) return info;
  }
  throw new Mp4Error('esds has no DecoderConfigDescriptor');
}
