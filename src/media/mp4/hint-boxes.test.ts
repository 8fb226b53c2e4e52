import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRtpHintEntry } from './hint.js';
import { parseMoov } from './reader.js';
import { box, moov, trak, u16, u32, type SynthTrack } from './test-helpers/build-boxes.js';

const video: SynthTrack = { id: 1, sizes: [10, 10], stsc: [[1, 2]], chunkOffsets: [100] };
const hintTrack: SynthTrack = {
  id: 3,
  handler: 'hint',
  codec: 'rtp ',
  timescale: 90000,
  sizes: [40, 40],
  stsc: [[1, 2]],
  chunkOffsets: [200],
  tref: { hint: [1] },
  // hint track version, highest compatible version, max packet size, then 'tims'.
  entryChildren: [u16(1, 1), u32(1450), box('tims', u32(90000))],
};
const TRACK_SDP = 'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=3\r\n';
const MOVIE_SDP = 'v=0\r\no=QTSS 1 1 IN IP4 0.0.0.0\r\ns=Title\r\ni=About\r\na=x-copyright: 2026\r\n';

/** A trak with extra child boxes (udta) appended. */
function trakWith(t: SynthTrack, ...children: Buffer[]): Buffer {
  return box('trak', trak(t).subarray(8), ...children);
}
const hnti = (type: string, body: Buffer) => box('udta', box('hnti', box(type, body)));

describe('hint boxes in the moov', () => {
  it("reads the movie-level 'rtp ' text (after its 'sdp ' tag) and each hint track's 'sdp ' text", () => {
    const m = moov([video], {
      extra: [
        trakWith(hintTrack, hnti('sdp ', Buffer.from(`${TRACK_SDP}\0\0`, 'latin1'))),
        // moov() already wrote a udta (with meta); the hnti is in a second one.
        hnti('rtp ', Buffer.from(`sdp ${MOVIE_SDP}`, 'latin1')),
      ],
    });
    const parsed = parseMoov(m, { quickTime: true });
    assert.equal(parsed.hintSdp, MOVIE_SDP);
    const [v, h] = parsed.tracks;
    assert.equal(v.hintSdp, undefined, 'media tracks carry no hint SDP');
    assert.equal(h.handler, 'hint');
    assert.equal(h.hintSdp, TRACK_SDP, 'text ends at a NUL');
    assert.deepEqual(h.references, { hint: [1] });
    assert.equal(h.sampleEntries?.length, 1);
    const entry = parseRtpHintEntry(h.sampleEntries[0]);
    assert.equal(entry.maxPacketSize, 1450);
    assert.equal(entry.timescale, 90000);
    assert.equal(v.sampleEntries?.[0].toString('latin1', 4, 8), 'avc1', 'media entries are kept whole too');
  });

  it("ignores a movie-level text whose format is not 'sdp '", () => {
    const m = moov([video], { extra: [hnti('rtp ', Buffer.from(`xyz ${MOVIE_SDP}`, 'latin1'))] });
    assert.equal(parseMoov(m, { quickTime: false }).hintSdp, undefined);
  });

  it('loses only the text, never the track, when the udta is damaged', () => {
    const broken = Buffer.from(box('udta', box('hnti', box('sdp ', Buffer.from(TRACK_SDP)))));
    broken.writeUInt32BE(9999, 8); // the hnti claims to run far past its udta
    const parsed = parseMoov(moov([video], { extra: [trakWith(hintTrack, broken)] }), { quickTime: false });
    assert.equal(parsed.tracks.length, 2);
    assert.equal(parsed.tracks[1].hintSdp, undefined);
    assert.equal(parsed.tracks[1].sampleCount, 2);
  });
});
