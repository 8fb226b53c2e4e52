/** The radio benchmark's pure parts: the listener's response head scanner, the run's summary
 * (what counts as dropped, starved, failed) and the CPU profile's window. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { profileReport, type CpuProfile } from './radio-profile.js';
import { HeadScanner, summarize, type ListenerResult } from './radio-readers.js';

describe('HeadScanner', () => {
  it('finds the first audio byte of a head split anywhere across reads, even inside \\r\\n\\r\\n', () => {
    const whole = Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n\xff\xfb', 'latin1');
    const bodyAt = whole.length - 2;
    for (let cut = 1; cut < whole.length; cut++) {
      const s = new HeadScanner();
      const first = s.push(whole, 0, cut);
      if (cut >= bodyAt) {
        assert.equal(first, bodyAt, `cut ${cut}`);
      } else {
        assert.equal(first, -1, `cut ${cut}`);
        assert.equal(s.push(whole, cut, whole.length), bodyAt, `cut ${cut}`);
      }
      assert.equal(s.status, 200);
    }
  });

  it('reads ICY and refusal status lines, and a lone \\r\\r\\n\\r\\n still ends the head', () => {
    const icy = new HeadScanner();
    assert.equal(icy.push(Buffer.from('ICY 200 OK\r\r\n\r\nx'), 0, 16), 15);
    assert.equal(icy.status, 200);
    const full = new HeadScanner();
    const b = Buffer.from('HTTP/1.0 503 Server full\r\n\r\n');
    assert.equal(full.push(b, 0, b.length), b.length);
    assert.equal(full.status, 503);
    assert.equal(full.statusLine, 'HTTP/1.0 503 Server full');
  });

  it('gives up on a head that never ends', () => {
    const s = new HeadScanner();
    const junk = Buffer.alloc(4096, 0x41);
    assert.throws(() => {
      for (let i = 0; i < 10; i++) s.push(junk, 0, junk.length);
    }, /too long/);
  });
});

describe('summarize', () => {
  const at = (kbps: number, windowS: number) => Math.round((kbps * 1000 * windowS) / 8);
  it('counts starved below 95 % of the bitrate, dropped, failed and never started', () => {
    const res: ListenerResult[] = [
      { ok: true, connectMs: 1, windowBytes: at(128, 20), windowReads: 100, dropped: false },
      { ok: true, connectMs: 2, windowBytes: at(122, 20), windowReads: 100, dropped: false },
      { ok: true, connectMs: 3, windowBytes: at(121, 20), windowReads: 100, dropped: false },
      { ok: true, connectMs: 4, windowBytes: at(40, 20), windowReads: 100, dropped: true },
      { ok: false, reason: 'HTTP/1.0 503 Server full', windowBytes: 0, windowReads: 0, dropped: false },
    ];
    const s = summarize(res, 6, 128_000, 20);
    assert.equal(s.playing, 4);
    assert.equal(s.failed, 2);
    assert.deepEqual(s.failures, { 'HTTP/1.0 503 Server full': 1, 'never started': 1 });
    assert.equal(s.dropped, 1);
    // 121 and 40 kbit/s are under 121.6.
    assert.equal(s.starved, 2);
    assert.equal(s.kbps_median, 121.5);
    assert.equal(s.kbps_min, 40);
    assert.equal(s.connect_ms_p50, 3);
    assert.equal(s.connect_ms_max, 4);
    assert.equal(s.reads_per_s_median, 5);
  });

  it('gives nulls, not NaN, when nothing played', () => {
    const s = summarize([], 3, 128_000, 20);
    assert.equal(s.failed, 3);
    assert.equal(s.kbps_median, null);
    assert.equal(s.connect_ms_p95, null);
  });
});

describe('profileReport', () => {
  // root → write (listener.ts) → writev (native); root → (idle); samples at t = 110, 120, 130, 140.
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 4] },
      {
        id: 2,
        callFrame: { functionName: 'write', url: 'file:///r/src/radio/listener.ts', lineNumber: 9 },
        children: [3],
      },
      { id: 3, callFrame: { functionName: 'writev', url: '', lineNumber: -1 } },
      { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
    ],
    startTime: 100,
    endTime: 150,
    samples: [4, 3, 2, 3],
    timeDeltas: [10, 10, 10, 10],
  };

  it('takes only the window, self time by function and inclusive time of the chosen files', () => {
    const r = profileReport(profile, { fromUs: 115, toUs: 145, files: ['radio/listener.ts'] });
    assert.equal(r.windowed, true);
    assert.equal(r.samples, 3);
    assert.equal(r.idlePct, 0);
    assert.deepEqual(r.self, [
      ['writev', 66.7],
      ['write listener.ts:10', 33.3],
    ]);
    assert.deepEqual(r.inclusive, [['write listener.ts:10', 100]]);
  });

  it('falls back to the whole profile when the window holds no sample', () => {
    const r = profileReport(profile, { fromUs: 1000, toUs: 2000 });
    assert.equal(r.windowed, false);
    assert.equal(r.samples, 4);
    assert.equal(r.idlePct, 25);
  });
});
