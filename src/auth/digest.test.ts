import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestAlgorithm, digestResponse, NonceStore, sameDigest } from './digest.js';
import { FailureThrottle, type FailureThrottleOptions } from './throttle.js';
import { ha1Md5, ha1Sha256 } from './users-file.js';

describe('digest responses', () => {
  it('computes the RFC 2617 §3.5 example (MD5, qop=auth)', () => {
    const r = digestResponse({
      algorithm: 'MD5',
      ha1: ha1Md5('Mufasa', 'testrealm@host.com', 'Circle Of Life'),
      method: 'GET',
      uri: '/dir/index.html',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    assert.equal(r, '6629fae49393a05397450978507c4ef1');
  });

  it('computes the RFC 7616 §3.9.1 examples (SHA-256 and MD5)', () => {
    const common = {
      method: 'GET',
      uri: '/dir/index.html',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    const realm = 'http-auth@example.org';
    assert.equal(
      digestResponse({ ...common, algorithm: 'SHA-256', ha1: ha1Sha256('Mufasa', realm, 'Circle of Life') }),
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
    assert.equal(
      digestResponse({ ...common, algorithm: 'MD5', ha1: ha1Md5('Mufasa', realm, 'Circle of Life') }),
      '8ca523f5e9506fed4657c9700eebdbec',
    );
  });

  it('computes RFC 2069 responses (no qop)', () => {
    // Without qop: MD5(HA1:nonce:HA2), what GStreamer sends.
    const ha1 = ha1Md5('u', 'r', 'p');
    const r = digestResponse({
      algorithm: 'MD5',
      ha1,
      method: 'DESCRIBE',
      uri: 'rtsp://h/a.mp4',
      nonce: 'n',
    });
    assert.equal(r.length, 32);
    assert.notEqual(
      r,
      digestResponse({ algorithm: 'MD5', ha1, method: 'SETUP', uri: 'rtsp://h/a.mp4', nonce: 'n' }),
    );
  });

  it('knows MD5 (also when unnamed) and SHA-256 only', () => {
    assert.equal(digestAlgorithm(undefined), 'MD5');
    assert.equal(digestAlgorithm('md5'), 'MD5');
    assert.equal(digestAlgorithm('SHA-256'), 'SHA-256');
    assert.equal(digestAlgorithm('MD5-sess'), undefined);
    assert.equal(digestAlgorithm('SHA-512-256'), undefined);
    assert.ok(sameDigest('ABCDEF', 'abcdef'));
    assert.ok(!sameDigest('abcdef', 'abcde'));
  });
});

describe('NonceStore', () => {
  it('accepts its own fresh nonces, calls expired ones stale and others invalid', () => {
    let now = 1_000_000;
    const s = new NonceStore({ lifetimeMs: 60_000, now: () => now });
    const n = s.issue();
    assert.equal(s.check(n), 'valid');
    assert.equal(s.check(n.replace(/.$/, (c) => (c === '0' ? '1' : '0'))), 'invalid', 'a tampered nonce');
    assert.equal(s.check('abc'), 'invalid');
    assert.equal(
      new NonceStore({ lifetimeMs: 60_000 }).check(n),
      'invalid',
      "another server's nonce (e.g. before a restart)",
    );
    now += 61_000;
    assert.equal(s.check(n), 'stale');
  });

  it('refuses a replayed nc/cnonce pair', () => {
    const s = new NonceStore({ lifetimeMs: 60_000 });
    const n = s.issue();
    assert.ok(s.use(n, '00000001', 'abc'));
    assert.ok(s.use(n, '00000002', 'abc'));
    assert.ok(!s.use(n, '00000001', 'abc'), 'replay');
    assert.ok(!s.use(n, '00000001', 'ABC'.toLowerCase()), 'replay');
    assert.ok(s.use(n, '00000001', 'other'), 'another client counter');
  });

  it('binds a nonce to what it was issued to: under another binding it is foreign', () => {
    const s = new NonceStore({ lifetimeMs: 60_000 });
    const n = s.issue('10.0.0.1\nrtsp:7');
    assert.equal(s.check(n, '10.0.0.1\nrtsp:7'), 'valid');
    assert.equal(s.check(n, '10.0.0.1\nrtsp:8'), 'foreign', 'another connection');
    assert.equal(s.check(n, '10.0.0.2\nrtsp:7'), 'foreign', 'another address');
    assert.equal(s.check(n), 'foreign', 'no binding');
    assert.equal(s.check(n, '10.0.0.1\nrtsp:7'), 'valid', 'a foreign try does not spoil it');
  });

  it('forgets the oldest nonces past its limit; those become stale', () => {
    const s = new NonceStore({ lifetimeMs: 60_000, maxTracked: 3 });
    const first = s.issue();
    for (let i = 0; i < 3; i++) s.issue();
    assert.equal(s.tracked, 3);
    assert.equal(s.check(first), 'stale');
  });
});

describe('FailureThrottle', () => {
  const make = (now: () => number, extra: Partial<FailureThrottleOptions> = {}) =>
    new FailureThrottle({
      freeFailures: 2,
      maxDelayMs: 1000,
      baseDelayMs: 100,
      windowMs: 10_000,
      now,
      ...extra,
    });

  it('delays after the free failures, doubling up to the cap, and forgets after the window', () => {
    let now = 0;
    const t = make(() => now);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      delays.push(t.fail('1.2.3.4', 'alice').delayMs);
      now += 5_000; // each answered before the next arrives
    }
    assert.deepEqual(delays, [0, 0, 100, 200, 400, 800, 1000]);
    assert.equal(t.fail('5.6.7.8').delayMs, 0, 'other addresses are not affected');
    now += 10_001;
    assert.equal(t.failures('1.2.3.4'), 0);
    assert.equal(t.fail('1.2.3.4').delayMs, 0);
  });

  it('queues parallel failures from one address one after another', () => {
    let now = 0;
    const t = make(() => now, { freeFailures: 0, baseDelayMs: 300, maxDelayMs: 300 });
    const delays = [1, 2, 3, 4].map(() => t.fail('1.2.3.4').delayMs);
    assert.deepEqual(delays, [300, 600, 900, 1200], 'each waits for the one before');
    assert.equal(t.waiting('1.2.3.4'), 4);
    now = 650;
    assert.equal(t.waiting('1.2.3.4'), 2, 'answered ones leave the queue');
    assert.equal(t.fail('1.2.3.4').delayMs, 1500 - 650);
  });

  it('caps refusals held per address; the full queue refuses unchecked', () => {
    const now = 0;
    const t = make(() => now, { freeFailures: 0, maxWaiting: 3 });
    for (let i = 0; i < 3; i++) {
      assert.ok(!t.full('1.2.3.4'));
      t.fail('1.2.3.4');
    }
    assert.ok(t.full('1.2.3.4'));
    assert.equal(t.refuseUnchecked('1.2.3.4'), 1);
    assert.equal(t.refuseUnchecked('1.2.3.4'), 2);
    const last = t.fail('1.2.3.4').delayMs;
    assert.equal(t.waiting('1.2.3.4'), 3, 'never grows past the cap');
    assert.ok(last <= 3 * 1000);
  });

  it('a success clears failures for that user only', () => {
    let now = 0;
    const t = make(() => now, { freeFailures: 1 });
    t.fail('1.2.3.4', 'alice');
    t.fail('1.2.3.4', 'alice');
    now += 5_000;
    t.succeed('1.2.3.4', 'alice');
    assert.equal(t.failures('1.2.3.4'), 0);
    assert.equal(t.fail('1.2.3.4', 'alice').delayMs, 0, 'the next failure is free again');
    t.fail('1.2.3.4', 'bob');
    t.succeed('1.2.3.4', 'alice');
    assert.equal(t.failures('1.2.3.4'), 2, 'guesses at bob are not wiped by logging in as alice');
  });

  it('stays bounded in memory', () => {
    const t = new FailureThrottle({ freeFailures: 0, maxDelayMs: 1000, maxTracked: 100 });
    for (let i = 0; i < 1000; i++) t.fail(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(t.failures('10.0.0.0'), 0, 'the oldest were forgotten');
    assert.equal(t.failures('10.0.3.231'), 1);
  });
});
