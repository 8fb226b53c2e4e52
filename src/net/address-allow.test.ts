import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressAllowed } from './address-allow.js';

describe('addressAllowed', () => {
  it('matches single IPv4 addresses exactly', () => {
    assert.equal(addressAllowed('127.0.0.1', ['127.0.0.1']), true);
    assert.equal(addressAllowed('127.0.0.2', ['127.0.0.1']), false);
    assert.equal(addressAllowed('192.168.1.20', ['10.1.1.1', '192.168.1.20']), true);
  });

  it('matches IPv4 CIDRs', () => {
    assert.equal(addressAllowed('127.45.6.7', ['127.0.0.0/8']), true);
    assert.equal(addressAllowed('128.0.0.1', ['127.0.0.0/8']), false);
    assert.equal(addressAllowed('10.255.255.255', ['127.0.0.0/8', '10.0.0.0/8']), true);
    assert.equal(addressAllowed('11.0.0.0', ['10.0.0.0/8']), false);
    assert.equal(addressAllowed('192.168.1.77', ['192.168.1.64/26']), true);
    assert.equal(addressAllowed('192.168.1.128', ['192.168.1.64/26']), false);
    assert.equal(addressAllowed('8.8.8.8', ['0.0.0.0/0']), true);
  });

  it('matches IPv6 addresses and CIDRs', () => {
    assert.equal(addressAllowed('::1', ['::1']), true);
    assert.equal(addressAllowed('::2', ['::1']), false);
    assert.equal(addressAllowed('fd00::1234', ['fd00::/8']), true);
    assert.equal(addressAllowed('fdab:cd::1', ['fd00::/8']), true);
    assert.equal(addressAllowed('fe80::1', ['fd00::/8']), false);
    assert.equal(addressAllowed('2001:db8::1', ['127.0.0.0/8', '2001:db8::/32']), true);
  });

  it('treats IPv4-mapped IPv6 addresses (dual-stack sockets) as IPv4', () => {
    assert.equal(addressAllowed('::ffff:127.0.0.1', ['127.0.0.0/8']), true);
    assert.equal(addressAllowed('::ffff:10.2.3.4', ['10.0.0.0/8']), true);
    assert.equal(addressAllowed('::ffff:192.168.0.1', ['127.0.0.0/8', '10.0.0.0/8']), false);
    assert.equal(addressAllowed('::ffff:127.0.0.1', ['127.0.0.1']), true);
  });

  it('does not let IPv4 and IPv6 entries cross-match', () => {
    assert.equal(addressAllowed('127.0.0.1', ['::1']), false);
    assert.equal(addressAllowed('::1', ['127.0.0.1']), false);
  });

  it('allows nobody with an empty list', () => {
    assert.equal(addressAllowed('127.0.0.1', []), false);
    assert.equal(addressAllowed('::1', []), false);
  });

  it('answers false for something that is not an address', () => {
    assert.equal(addressAllowed('not-an-ip', ['127.0.0.0/8', '::/0']), false);
    assert.equal(addressAllowed('', ['0.0.0.0/0']), false);
  });

  it('throws on a bad entry', () => {
    assert.throws(() => addressAllowed('127.0.0.1', ['localhost']), /localhost/);
    assert.throws(() => addressAllowed('127.0.0.1', ['300.1.2.3']));
    assert.throws(() => addressAllowed('127.0.0.1', ['10.0.0.0/33']));
    assert.throws(() => addressAllowed('127.0.0.1', ['10.0.0.0/x']));
    assert.throws(() => addressAllowed('::1', ['fd00::/129']));
  });

  it('throws on a bad entry every time, not only the first', () => {
    assert.throws(() => addressAllowed('127.0.0.1', ['127.0.0.1', 'bogus']));
    assert.throws(() => addressAllowed('127.0.0.1', ['127.0.0.1', 'bogus']));
  });
});
