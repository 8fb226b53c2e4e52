import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission, type AdmissionAnswer, type AdmissionLimits } from './admission.js';
import type { CountedReader } from './reader.js';

class FakeReader implements CountedReader {
  readonly protocol = 'test';
  readonly label: string;
  readonly path = 'movie.mp4';
  playing = false;
  closed = false;
  carried = true;
  constructor(
    readonly rate: number,
    name = 'r',
  ) {
    this.label = name;
  }
  kbps(): number {
    return this.rate;
  }
  resync(): void {}
  close(): void {
    this.closed = true;
  }
  stats() {
    return { since: 0, bytes: 0, packets: 0 };
  }
}

function setup(limits: AdmissionLimits) {
  const readers: FakeReader[] = [];
  const admission = new Admission({ limits: () => limits, readers: () => readers });
  return { admission, readers, limits };
}

function refusedWith(a: AdmissionAnswer, re: RegExp): void {
  assert.equal(a.admit, false);
  if (!a.admit) assert.match(a.reason, re);
}

describe('Admission', () => {
  it('counts admitted connections until they close or leave, and refuses the one over maxConnections', () => {
    const { admission } = setup({ maxConnections: 2, maxBandwidthKbps: 0 });
    const a = { closed: false };
    const b = { closed: false };
    assert.equal(admission.admitClient(a).admit, true);
    assert.equal(admission.admitClient(a).admit, true, 'a client is admitted once');
    assert.equal(admission.admitClient(b).admit, true);
    assert.equal(admission.clientsInUse(), 2);
    const c = { closed: false };
    refusedWith(admission.admitClient(c), /^server full: 2 connections in use, limits\.maxConnections is 2$/);
    // Already admitted: never refused later, whatever the count.
    assert.equal(admission.admitClient(b).admit, true);
    a.closed = true;
    assert.equal(admission.clientsInUse(), 1);
    assert.equal(admission.admitClient(c).admit, true);
    admission.leave(c);
    assert.equal(admission.clientsInUse(), 1);
  });

  it('counts a reader playing without a connection as a client of its own', () => {
    const { admission, readers } = setup({ maxConnections: 2, maxBandwidthKbps: 0 });
    const conn = { closed: false };
    admission.admitClient(conn);
    const r = new FakeReader(100);
    readers.push(r);
    r.playing = true;
    assert.equal(admission.clientsInUse(), 1, 'carried by its connection');
    conn.closed = true;
    r.carried = false;
    assert.equal(admission.clientsInUse(), 1, 'the reader plays on alone');
    r.playing = false;
    assert.equal(admission.clientsInUse(), 0, 'a paused one does not count');
    r.playing = true;
    r.closed = true;
    assert.equal(admission.clientsInUse(), 0, 'nor a closed one');
  });

  it('sums the bitrate of readers playing or starting, and refuses the PLAY that would go over', () => {
    const { admission, readers } = setup({ maxConnections: 0, maxBandwidthKbps: 1000 });
    const a = new FakeReader(400, 'a');
    const b = new FakeReader(400, 'b');
    const c = new FakeReader(400, 'c');
    readers.push(a, b, c);
    assert.equal(admission.bandwidthInUse(), 0);
    assert.deepEqual(admission.admitPlay(a), { admit: true, starting: true });
    assert.equal(admission.bandwidthInUse(), 400, 'a starting reader is counted');
    admission.started(a);
    a.playing = true;
    assert.equal(admission.admitPlay(b).admit, true);
    assert.equal(admission.bandwidthInUse(), 800);
    assert.deepEqual(admission.admitPlay(b), { admit: true, starting: false }, 'not counted twice while starting');
    refusedWith(
      admission.admitPlay(c),
      /^not enough bandwidth: 800 kbit\/s being sent, this stream needs 400, limits\.maxBandwidthKbps is 1000$/,
    );
    admission.started(b);
    assert.equal(admission.bandwidthInUse(), 400, 'b failed to start: its promise is given back');
    assert.equal(admission.admitPlay(c).admit, true);
    assert.equal(admission.bandwidthInUse(c), 400, 'except leaves one reader out');
    // One already playing is admitted again without a check (a PLAY that only keeps it alive).
    a.playing = true;
    assert.deepEqual(admission.admitPlay(a), { admit: true, starting: false });
  });

  it('reads the limits at every check: a reload applies to the next client, nobody admitted is cut off', () => {
    const { admission, readers, limits } = setup({ maxConnections: 1, maxBandwidthKbps: 0 });
    const a = { closed: false };
    const b = { closed: false };
    assert.equal(admission.admitClient(a).admit, true);
    refusedWith(admission.admitClient(b), /limits\.maxConnections is 1/);
    limits.maxConnections = 2;
    assert.equal(admission.admitClient(b).admit, true);
    limits.maxConnections = 1;
    assert.equal(admission.admitClient(a).admit, true);
    assert.equal(admission.clientsInUse(), 2);

    const r = new FakeReader(300);
    readers.push(r);
    limits.maxBandwidthKbps = 200;
    const refused = admission.admitPlay(r);
    assert.equal(refused.admit === false && refused.limit, 'maxBandwidthKbps');
    limits.maxBandwidthKbps = 0;
    assert.equal(admission.admitPlay(r).admit, true, '0 lifts the limit');
  });
});
