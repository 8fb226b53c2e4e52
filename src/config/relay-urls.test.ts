import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseRtspUrl as clientParse } from '../rtsp/client/url.js';
import { parseIcecastUrl, parsePushUrl, parseRtspUrl, parseUdpForward, parseUdpSource, redactUrl } from './relay-urls.js';

describe('parseRtspUrl', () => {
  it('takes a URL apart, with the default port of its scheme', () => {
    assert.deepEqual(parseRtspUrl('rtsp://cam.example.com/live/a'), { scheme: 'rtsp', host: 'cam.example.com', port: 554, path: '/live/a', user: undefined, password: undefined, url: 'rtsp://cam.example.com/live/a' });
    assert.deepEqual(parseRtspUrl('RTSPS://10.0.0.7'), { scheme: 'rtsps', host: '10.0.0.7', port: 322, path: '/', user: undefined, password: undefined, url: 'rtsps://10.0.0.7/' });
    assert.deepEqual(parseRtspUrl('rtsp://[fe80::1]:8554?channel=1'), { scheme: 'rtsp', host: 'fe80::1', port: 8554, path: '/?channel=1', user: undefined, password: undefined, url: 'rtsp://[fe80::1]:8554/?channel=1' });
    assert.deepEqual(parseRtspUrl('rtsp://my_cam:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1'), {
      scheme: 'rtsp',
      host: 'my_cam',
      port: 554,
      path: '/Streaming/Channels/101?transportmode=unicast&profile=Profile_1',
      user: undefined,
      password: undefined,
      url: 'rtsp://my_cam:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1',
    });
  });

  it('decodes credentials and leaves them out of url', () => {
    const u = parseRtspUrl('rtsp://ad%20min:p%40ss%3Aw%2Frd@cam/x');
    assert.ok(typeof u !== 'string');
    assert.equal(u.user, 'ad min');
    assert.equal(u.password, 'p@ss:w/rd');
    assert.equal(u.url, 'rtsp://cam/x');
    const noPassword = parseRtspUrl('rtsp://viewer@cam/x');
    assert.ok(typeof noPassword !== 'string');
    assert.equal(noPassword.user, 'viewer');
    assert.equal(noPassword.password, undefined);
  });

  it('says what is wrong', () => {
    const cases: [string, string][] = [
      ['http://cam/x', 'expected rtsp://[user:password@]host[:port]/path or rtsps://…'],
      ['rtsp:/cam/x', 'expected rtsp://[user:password@]host[:port]/path or rtsps://…'],
      ['rtsp://cam:65536/x', "port '65536' is not a number from 1 to 65535"],
      ['rtsp://cam:0/x', "port '0' is not a number from 1 to 65535"],
      ['rtsp://cam:8a/x', "port '8a' is not a number from 1 to 65535"],
      ['rtsp://[fe80::1/x', 'has a [ with no ] around its IPv6 address'],
      ['rtsp://[cam]/x', "'cam' is not an IPv6 address"],
      ['rtsp://[::1]x/y', "has 'x' after its IPv6 address"],
      ['rtsp://cam\t/x', 'has a space or line break: write a space as %20'],
      ['rtsp://cam/x\u0000', 'has a control character'],
      ['rtsp://a..b/x', "'a..b' is not a valid host name or IP address"],
      ['rtsp://cam/a%2', 'has a broken %-escape in its path (% must be followed by two hex digits)'],
      ['rtsp://cam/a<b', "has '<' in its path: percent-encode it as %3C"],
      ['rtsp://u:p%4@cam/x', 'has a broken %-escape in its user name or password'],
      ['rtsp://cam/a/../b', 'has a . or .. part in its path'],
      ['rtsp://cam/./b', 'has a . or .. part in its path'],
      ['rtsp://cam/a/%2E', 'has a . or .. part in its path'],
      ['rtsp://u:12?34@cam/x', 'has an @ in the first part of its path: in a user name or password, write / ? # @ as %2F %3F %23 %40'],
    ];
    for (const [url, why] of cases) assert.equal(parseRtspUrl(url), why, url);
    assert.equal(parseRtspUrl('rtsp://cam/', { needPath: true }), 'needs a path naming the stream, e.g. rtsp://host/live/cam');
    assert.equal(parseRtspUrl('rtsp://cam//?x=1', { needPath: true }), 'needs a path naming the stream, e.g. rtsp://host/live/cam');
    assert.ok(typeof parseRtspUrl('rtsp://cam/live', { needPath: true }) !== 'string');
  });

  it('never throws, and what it accepts it can write back', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (s) => {
        const r = parseRtspUrl(`rtsp://${s}`);
        if (typeof r === 'string') return;
        const again = parseRtspUrl(r.url);
        if (typeof again === 'string') assert.fail(`${r.url} read back: ${again}`);
        assert.deepEqual([again.host, again.port, again.path, again.url], [r.host, r.port, r.path, r.url]);
      }),
    );
  });

  it('gets back any user name and password written percent-encoded', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ maxLength: 30 }), (user, password) => {
        const r = parseRtspUrl(`rtsp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@cam.example:8554/live/a`);
        if (typeof r === 'string') assert.fail(r);
        assert.equal(r.user, user);
        assert.equal(r.password, password);
        assert.equal(r.url, 'rtsp://cam.example:8554/live/a');
      }),
    );
  });
});

describe('parseRtspUrl and the RTSP client', () => {
  it('agree on host, port, credentials and request URL of every URL the config accepts', () => {
    const host = fc.constantFrom('cam', 'cam.example.com', 'my_cam-2.lan', '10.0.0.7', '[::1]', '[2001:db8::7]');
    const segment = fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:-]{0,12}$/);
    const url = fc.record({
      scheme: fc.constantFrom('rtsp', 'rtsps'),
      user: fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: undefined }),
      password: fc.string({ maxLength: 12 }),
      host,
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      path: fc.array(segment, { minLength: 1, maxLength: 4 }),
      query: fc.option(fc.stringMatching(/^[A-Za-z0-9=&_-]{1,16}$/), { nil: undefined }),
    });
    fc.assert(
      fc.property(url, (u) => {
        const info = u.user === undefined ? '' : `${encodeURIComponent(u.user)}:${encodeURIComponent(u.password)}@`;
        const text = `${u.scheme}://${info}${u.host}${u.port === undefined ? '' : `:${u.port}`}/${u.path.join('/')}${u.query === undefined ? '' : `?${u.query}`}`;
        const ours = parseRtspUrl(text);
        if (u.path.some((seg) => seg === '.' || seg === '..')) return assert.equal(ours, 'has a . or .. part in its path');
        if (typeof ours === 'string') assert.fail(`${text}: ${ours}`);
        const theirs = clientParse(text);
        assert.deepEqual([ours.host, ours.port, ours.scheme === 'rtsps'], [theirs.host, theirs.port, theirs.secure]);
        assert.deepEqual(ours.user === undefined ? undefined : { user: ours.user, password: ours.password ?? '' }, theirs.credentials);
        assert.equal(ours.url, theirs.href);
      }),
    );
  });
});

describe('parseIcecastUrl and parsePushUrl', () => {
  it('take an Icecast mount apart, with port 8000 by default and the login decoded', () => {
    assert.deepEqual(parseIcecastUrl('icecast://source:hack%40me@radio.example.com/live.mp3'), {
      scheme: 'icecast',
      host: 'radio.example.com',
      port: 8000,
      mount: '/live.mp3',
      user: 'source',
      password: 'hack@me',
      url: 'icecast://radio.example.com:8000/live.mp3',
    });
    const v6 = parseIcecastUrl('ICECAST://dj:pw@[::1]:8100/a/b');
    assert.ok(typeof v6 !== 'string');
    assert.deepEqual([v6.host, v6.port, v6.mount, v6.url], ['::1', 8100, '/a/b', 'icecast://[::1]:8100/a/b']);
  });

  it('say what is wrong with an icecast:// URL', () => {
    const cases: [string, string][] = [
      ['icecast://source:pw@host', 'needs a mount, e.g. icecast://source:password@host/stream'],
      ['icecast://source:pw@host/', 'needs a mount, e.g. icecast://source:password@host/stream'],
      ['icecast://host/m', 'needs the source user and password, e.g. icecast://source:password@host/stream'],
      ['icecast://source@host/m', 'needs the source user and password, e.g. icecast://source:password@host/stream'],
      ['icecast://:pw@host/m', 'has a password but no user name (icecast://user:password@host/…)'],
      ['icecast://source:pw@host/m?x=1', 'takes no ?query: a mount is a path, e.g. icecast://source:password@host/stream'],
      ['icecast://source:pw@host:0/m', "port '0' is not a number from 1 to 65535"],
      ['icecast://source:pw@host/m n', 'has a space or line break: write a space as %20'],
      ['http://source:pw@host/m', 'expected icecast://user:password@host[:port]/mount'],
    ];
    for (const [url, why] of cases) assert.equal(parseIcecastUrl(url), why, url);
  });

  it('parsePushUrl reads each push scheme by its own rules', () => {
    const ice = parsePushUrl('icecast://source:pw@host/m');
    assert.ok(typeof ice !== 'string' && ice.scheme === 'icecast');
    const rtsp = parsePushUrl('rtsps://edge/live/a');
    assert.ok(typeof rtsp !== 'string' && rtsp.scheme === 'rtsps');
    assert.equal(parsePushUrl('rtsp://edge/'), 'needs a path naming the stream, e.g. rtsp://host/live/cam');
    assert.equal(parsePushUrl('http://edge/x'), 'expected rtsp://[user:password@]host[:port]/path, rtsps://… or icecast://user:password@host[:port]/mount');
    assert.equal(parsePushUrl('ice cast'), 'has a space or line break: write a space as %20');
  });

  it('never throw, and read back what they accept', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (s) => {
        const r = parsePushUrl(`icecast://${s}`);
        if (typeof r === 'string' || r.scheme !== 'icecast') return;
        const again = parseIcecastUrl(`icecast://${encodeURIComponent(r.user)}:${encodeURIComponent(r.password)}@${r.url.slice('icecast://'.length)}`);
        if (typeof again === 'string') assert.fail(`${r.url} read back: ${again}`);
        assert.deepEqual(again, r);
      }),
    );
  });
});

describe('redactUrl', () => {
  it('masks the password, also when a raw / or @ in it broke the URL', () => {
    assert.equal(redactUrl('rtsp://admin:secret@cam/x'), 'rtsp://admin:***@cam/x');
    assert.equal(redactUrl('rtsp://admin@cam/x'), 'rtsp://***@cam/x');
    assert.equal(redactUrl('rtsp://admin:se/cr@et@cam/x'), 'rtsp://admin:***@cam/x');
    assert.equal(redactUrl('rtsp://cam/x'), 'rtsp://cam/x');
    assert.equal(redactUrl(`rtsp://cam/${'a'.repeat(300)}`).length, 201);
  });

  it('never shows a password written in a URL', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4, maxLength: 30 }).filter((p) => !/[@:]/.test(p)), (password) => {
        assert.ok(!redactUrl(`rtsp://user:${password}@cam/x`).includes(password));
        assert.ok(!redactUrl(`rtsp://user:${encodeURIComponent(password)}@cam/x`).includes(encodeURIComponent(password)));
      }),
    );
  });
});

describe('parseUdpSource and parseUdpForward', () => {
  it('read a listening address, a group, every address, and a sender filter', () => {
    assert.deepEqual(parseUdpSource('udp://239.1.2.3:5000'), { host: '239.1.2.3', port: 5000 });
    assert.deepEqual(parseUdpSource('udp://:5000'), { host: '', port: 5000 });
    assert.deepEqual(parseUdpSource('udp://[ff15::1]:5000/'), { host: 'ff15::1', port: 5000 });
    assert.deepEqual(parseUdpSource('udp://0.0.0.0:6000?source=10.0.0.5'), { host: '0.0.0.0', port: 6000, source: '10.0.0.5' });
  });

  it('read a destination with its ttl and outgoing interface', () => {
    assert.deepEqual(parseUdpForward('udp://239.1.1.1:5000?ttl=16&iface=192.168.1.2'), { host: '239.1.1.1', port: 5000, ttl: 16, iface: '192.168.1.2' });
    assert.deepEqual(parseUdpForward('udp://edge.example.com:6970'), { host: 'edge.example.com', port: 6970 });
    assert.deepEqual(parseUdpForward('UDP://[::1]:6970?ttl=1'), { host: '::1', port: 6970, ttl: 1 });
  });

  it('say what is wrong', () => {
    assert.equal(parseUdpSource('udp://u@239.1.2.3:5000'), 'takes no user name or password');
    assert.equal(parseUdpSource('udp://239.1.2.3:65535'), 'port 65535 is not a whole number from 2 to 65534');
    assert.equal(parseUdpSource('udp://239.1.2.3:0'), "port '0' is not a number from 1 to 65535");
    assert.equal(parseUdpSource('udp://239.1.2.3:5000#x'), 'has a #fragment: udp://address:port[?…]');
    assert.equal(parseUdpSource('udp://239.1.2.3:5000?source=1.2.3.4&source=1.2.3.5'), "gives 'source' twice");
    assert.equal(parseUdpForward('udp://10.0.0.1:5000?ttl=1&iface=10.0.0.2&x=1&y'), "has unknown parameters 'x', 'y' (it takes ttl and iface)");
    assert.equal(parseUdpForward('udp://10.0.0.1:65534?ttl=1000'), "ttl '1000' is not a whole number from 1 to 255");
    assert.equal(parseUdpForward('tcp://10.0.0.1:5000'), 'expected udp://address:port');
  });

  it('never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        parseUdpSource(`udp://${s}`);
        parseUdpForward(`udp://${s}`);
      }),
    );
  });
});
