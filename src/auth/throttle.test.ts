import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureThrottle, throttleKey } from './throttle.js';

describe('throttleKey', () => {
  it('keeps IPv4 addresses (mapped ones too) and names an IPv6 address by its /64', () => {
    assert.equal(throttleKey('192.0.2.7'), '192.0.2.7');
    assert.equal(throttleKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(throttleKey('::FFFF:127.0.0.1'), '127.0.0.1');
    assert.equal(throttleKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(throttleKey('2001:0db8:0001:0002::ffff'), '2001:db8:1:2::/64');
    assert.equal(throttleKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(throttleKey('2001:db8:1::'), '2001:db8:1:0::/64');
    assert.equal(throttleKey('::1'), '0:0:0:0::/64');
    assert.equal(throttleKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(throttleKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(throttleKey('1:2:3:4:5:6:192.0.2.1'), '1:2:3:4::/64');
    assert.equal(throttleKey('/run/rivulet.sock'), '/run/rivulet.sock');
  });
});

describe('FailureThrottle by /64', () => {
  it('counts every address of an IPv6 /64 on one record, another /64 apart', () => {
    let now = 0;
    const t = new FailureThrottle({ freeFailures: 1, maxDelayMs: 1000, baseDelayMs: 100, now: () => now });
    assert.equal(t.fail('2001:db8:1:2::1').delayMs, 0);
    assert.equal(t.fail('2001:db8:1:2::2').delayMs, 100, 'the second failure of the /64 is held');
    assert.equal(t.failures('2001:db8:1:2:ffff:ffff:ffff:ffff'), 2);
    assert.equal(t.failures('2001:db8:1:3::1'), 0, 'the next /64 is not affected');
    assert.equal(t.retryAfterMs('2001:db8:1:2::99'), 100);
    now = 60;
    assert.equal(t.retryAfterMs('2001:db8:1:2::99'), 40, 'counts down');
    now = 100;
    assert.equal(t.retryAfterMs('2001:db8:1:2::99'), 0, 'nothing held any more');
    t.succeed('2001:db8:1:2::3', '');
    assert.equal(t.failures('2001:db8:1:2::1'), 0, 'a success in the /64 clears it');
  });
});
