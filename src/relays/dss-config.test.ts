import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRtspUrl } from '../config/index.js';
import { DssConfigError, MAX_DSS_CONFIG_BYTES, MAX_RELAYS, mergeDssPaths, parseDssRelayConfig, readDssRelayConfig, type DssRelayConfig } from './dss-config.js';

/** Issues as one line each: `line level relay: reason`. */
function issues(r: DssRelayConfig): string[] {
  return r.issues.map((i) => `${i.line} ${i.level} ${i.relay}: ${i.reason}`);
}

const retry = { min: 1, max: 30 };

/** A file as the DSS 5/6 web admin wrote it (relayxmlparser.pl WriteRelayConfigToFile): its
 * untouched default rule first, prefs in Perl's hash order, empty prefs for blank fields, the
 * password written unescaped. */
const ADMIN_WRITTEN = `<RELAY_CONFIG>
<OBJECT TYPE="relay" NAME="***qtssDefaultRelay***">
    <OBJECT CLASS="source" TYPE="announced_source">
    </OBJECT>
</OBJECT>
<OBJECT TYPE="relay" NAME="Lobby camera">
    <OBJECT CLASS="source" TYPE="rtsp_source">
        <PREF NAME="password">s3cr&t</PREF>
        <PREF NAME="source_addr">origin.example.com</PREF>
        <PREF NAME="url">/live/lobby.sdp</PREF>
        <PREF NAME="name">relay</PREF>
    </OBJECT>
    <OBJECT CLASS="destination" TYPE="announced_destination">
        <PREF NAME="url">/lobby.sdp</PREF>
        <PREF NAME="password">p@ss/w</PREF>
        <PREF NAME="dest_addr">edge1.example.com</PREF>
        <PREF NAME="name">bcast</PREF>
    </OBJECT>
    <OBJECT CLASS="destination" TYPE="udp_destination">
        <PREF NAME="url"></PREF>
        <PREF NAME="udp_base_port">6000</PREF>
        <PREF NAME="dest_addr">239.10.10.10</PREF>
        <PREF NAME="ttl">16</PREF>
    </OBJECT>
</OBJECT>
<OBJECT TYPE="relay" NAME="Old feed">
    <PREF NAME="enabled">false</PREF>
    <OBJECT CLASS="source" TYPE="rtsp_source">
        <PREF NAME="source_addr">10.1.1.1</PREF>
        <PREF NAME="url">/old.sdp</PREF>
        <PREF NAME="name"></PREF>
        <PREF NAME="password"></PREF>
    </OBJECT>
    <OBJECT CLASS="destination" TYPE="announced_destination">
        <PREF NAME="dest_addr">10.1.1.2</PREF>
        <PREF NAME="url">/old.sdp</PREF>
    </OBJECT>
</OBJECT>
</RELAY_CONFIG>`;

/** A file written by hand after DSS's sample: comments, tabs, every class. */
const HAND_WRITTEN = `<?xml version="1.0" encoding="UTF-8"?>
<!-- relays of the campus server -->
<RELAY_CONFIG>
\t<OBJECT TYPE="relay" NAME="keynote">
\t\t<PREF NAME="enabled">true</PREF>
\t\t<!-- pulled from the studio, announced to this server and sent to the campus group -->
\t\t<OBJECT CLASS="source" TYPE="rtsp_source">
\t\t\t<PREF NAME="source_addr">192.0.2.10</PREF>
\t\t\t<PREF NAME="rtsp_port">8554</PREF>
\t\t\t<PREF NAME="url">studio/keynote.sdp</PREF>
\t\t\t<PREF NAME="in_addr">192.0.2.1</PREF>
\t\t</OBJECT>
\t\t<OBJECT CLASS="destination" TYPE="announced_destination">
\t\t\t<PREF NAME="dest_addr">127.0.0.1</PREF>
\t\t\t<PREF NAME="url">/events/keynote.sdp</PREF>
\t\t</OBJECT>
\t\t<OBJECT CLASS="destination" TYPE="udp_destination">
\t\t\t<PREF NAME="out_addr">192.0.2.1</PREF>
\t\t\t<PREF NAME="dest_addr">233.252.0.5</PREF>
\t\t\t<LIST-PREF NAME="udp_ports">
\t\t\t\t<VALUE>5000</VALUE>
\t\t\t\t<VALUE>5002</VALUE>
\t\t\t</LIST-PREF>
\t\t\t<PREF NAME="ttl">5</PREF>
\t\t</OBJECT>
\t</OBJECT>
\t<OBJECT TYPE="relay" NAME="encoder">
\t\t<OBJECT CLASS="source" TYPE="announced_source">
\t\t\t<PREF NAME="source_addr">192.0.2.50</PREF>
\t\t\t<PREF NAME="url">/live/encoder.sdp</PREF>
\t\t</OBJECT>
\t\t<OBJECT CLASS="destination" TYPE="announced_destination">
\t\t\t<PREF NAME="out_addr">192.0.2.1</PREF>
\t\t\t<PREF NAME="dest_addr">198.51.100.7</PREF>
\t\t\t<PREF NAME="rtsp_port">5100</PREF>
\t\t\t<PREF NAME="name">user</PREF>
\t\t\t<PREF NAME="password">password</PREF>
\t\t</OBJECT>
\t</OBJECT>
\t<OBJECT TYPE="relay">
\t\t<OBJECT CLASS="source" TYPE="announced_source">
\t\t</OBJECT>
\t\t<OBJECT CLASS="destination" TYPE="udp_destination">
\t\t\t<PREF NAME="dest_addr">198.51.100.8</PREF>
\t\t\t<PREF NAME="udp_base_port">7000</PREF>
\t\t</OBJECT>
\t</OBJECT>
\t<OBJECT TYPE="relay" NAME="multicast in">
\t\t<OBJECT CLASS="source" TYPE="udp_source">
\t\t\t<PREF NAME="in_addr">192.0.2.1</PREF>
\t\t\t<PREF NAME="source_addr">192.0.2.99</PREF>
\t\t\t<LIST-PREF NAME="udp_ports">
\t\t\t\t<VALUE>5000</VALUE>
\t\t\t\t<VALUE>5002</VALUE>
\t\t\t</LIST-PREF>
\t\t\t<PREF NAME="ttl">5</PREF>
\t\t</OBJECT>
\t\t<OBJECT CLASS="destination" TYPE="udp_destination">
\t\t\t<PREF NAME="dest_addr">233.252.0.9</PREF>
\t\t\t<PREF NAME="udp_base_port">6000</PREF>
\t\t\t<PREF NAME="ttl">3</PREF>
\t\t</OBJECT>
\t</OBJECT>
\t<OBJECT TYPE="relay" NAME="old style">
\t\t<OBJECT CLASS="source" TYPE="relay_sdp">
\t\t\t<PREF NAME="sdp_path">/etc/streaming/relay.sdp</PREF>
\t\t</OBJECT>
\t</OBJECT>
</RELAY_CONFIG>
`;

/** One relay around `inner` (its source and destinations). */
function relay(inner: string, name = 'r'): string {
  return `<RELAY_CONFIG>\n<OBJECT TYPE="relay" NAME="${name}">\n${inner}\n</OBJECT>\n</RELAY_CONFIG>\n`;
}

const PULL = '<OBJECT CLASS="source" TYPE="rtsp_source"><PREF NAME="source_addr">10.0.0.1</PREF><PREF NAME="url">/a.sdp</PREF></OBJECT>';
const TO_EDGE = '<OBJECT CLASS="destination" TYPE="announced_destination"><PREF NAME="dest_addr">10.0.0.2</PREF></OBJECT>';

describe('parseDssRelayConfig: files as DSS wrote them', () => {
  it('reads what the web admin wrote: a pull with a push and a forward; the default rule and a disabled relay noted', () => {
    const r = parseDssRelayConfig(ADMIN_WRITTEN);
    assert.deepEqual(r.paths, [
      {
        name: 'live/lobby',
        relay: 'Lobby camera',
        line: 6,
        entry: {
          source: 'rtsp://relay:s3cr%26t@origin.example.com/live/lobby.sdp',
          push: [{ url: 'rtsp://bcast:p%40ss%2Fw@edge1.example.com/lobby.sdp', transport: 'tcp', retry }],
          forward: [{ host: '239.10.10.10', port: 6000, ttl: 16 }],
        },
      },
    ]);
    assert.deepEqual(issues(r), ['2 info ***qtssDefaultRelay***: an announced_source rule with no destination does nothing: skipped', '26 info Old feed: disabled (enabled is false): skipped']);
    // The credentials written raw reach the far ends as they were typed.
    const pull = parseRtspUrl(r.paths[0].entry.source ?? '');
    assert.ok(typeof pull !== 'string');
    assert.deepEqual([pull.user, pull.password], ['relay', 's3cr&t']);
    const push = parseRtspUrl(r.paths[0].entry.push?.[0].url ?? '');
    assert.ok(typeof push !== 'string');
    assert.deepEqual([push.user, push.password, push.path], ['bcast', 'p@ss/w', '/lobby.sdp']);
  });

  it('reads a hand-written file: a relay announced to this server is watched at that url; what it cannot honour is said once', () => {
    const r = parseDssRelayConfig(HAND_WRITTEN, { rtspPorts: [554, 8554] });
    assert.deepEqual(r.paths, [
      {
        name: 'events/keynote',
        relay: 'keynote',
        line: 4,
        entry: { source: 'rtsp://192.0.2.10:8554/studio/keynote.sdp', forward: [{ host: '233.252.0.5', port: 5000, ttl: 5, iface: '192.0.2.1' }] },
      },
      {
        name: 'live/encoder',
        relay: 'encoder',
        line: 27,
        entry: { push: [{ url: 'rtsp://user:password@198.51.100.7:5100/live/encoder.sdp', transport: 'tcp', retry }] },
      },
    ]);
    assert.deepEqual(issues(r), [
      '11 warn keynote: in_addr 192.0.2.1 is not honoured: the system picks the local address of the connection',
      '29 warn encoder: source_addr 192.0.2.50 is not honoured: streams announced at /live/encoder.sdp from any encoder allowed to publish are relayed',
      '33 warn encoder: out_addr 192.0.2.1 is not honoured: the system picks the local address of the connection',
      "41 warn #3: an announced_source without url relays every announced stream; Rivulet's destinations are per path: add push or forward to each paths: entry instead",
      '49 warn multicast in: udp_source is not run: Rivulet needs an SDP saying what the RTP carries, which DSS relayed blind. Write it in paths: as { source: udp://192.0.2.1:5000?source=192.0.2.99, sdp: <file or inline SDP>, forward: [udp://233.252.0.9:6000?ttl=3] }',
      '65 warn old style: relay_sdp (the source and its destinations in one SDP file, a=x-qt-relay-addr/port) is not read: write paths.<name>.source: sdp:/etc/streaming/relay.sdp with forward: [udp://address:port] instead',
    ]);
  });

  it('takes the relay to this server at DSS port 554 by default, and the source url when there is none', () => {
    const self = parseDssRelayConfig(relay(`${PULL}<OBJECT CLASS="destination" TYPE="announced_destination"><PREF NAME="dest_addr">127.0.0.1</PREF><PREF NAME="url">/b.sdp</PREF></OBJECT>`));
    assert.deepEqual(self.paths.map((p) => [p.name, p.entry]), [['b', { source: 'rtsp://10.0.0.1/a.sdp' }]]);
    // At another port it is another server on this machine: a push like any.
    const other = parseDssRelayConfig(relay(`${PULL}<OBJECT CLASS="destination" TYPE="announced_destination"><PREF NAME="dest_addr">127.0.0.1</PREF><PREF NAME="rtsp_port">8000</PREF></OBJECT>`));
    assert.deepEqual(other.paths.map((p) => [p.name, p.entry.push?.[0].url]), [['a', 'rtsp://127.0.0.1:8000/a.sdp']]);
    const twice = parseDssRelayConfig(
      relay(`${PULL}<OBJECT CLASS="destination" TYPE="announced_destination"><PREF NAME="dest_addr">::1</PREF><PREF NAME="url">/b.sdp</PREF></OBJECT><OBJECT CLASS="destination" TYPE="announced_destination"><PREF NAME="dest_addr">localhost</PREF><PREF NAME="url">/c.sdp</PREF></OBJECT>`),
    );
    assert.deepEqual(twice.paths.map((p) => p.name), ['b']);
    assert.deepEqual(issues(twice), ["3 warn r: a second announced_destination to this server (/c.sdp): the stream has one path here, '/b.sdp'"]);
  });

  it('reads a full rtsp:// url as DSS did: connected to source_addr, the url sent as written', () => {
    const r = parseDssRelayConfig(
      relay(`<OBJECT CLASS="source" TYPE="rtsp_source"><PREF NAME="source_addr">10.0.0.1</PREF><PREF NAME="url">rtsp://studio.example/live/a.sdp</PREF></OBJECT>${TO_EDGE}`),
    );
    assert.deepEqual(r.paths.map((p) => [p.name, p.entry.source]), [['live/a', 'rtsp://10.0.0.1/live/a.sdp']]);
    assert.deepEqual(issues(r), ['3 info r: the url\'s host studio.example is not used: DSS connected to source_addr 10.0.0.1, and so does Rivulet']);
    const noAddr = parseDssRelayConfig(relay(`<OBJECT CLASS="source" TYPE="rtsp_source"><PREF NAME="url">rtsp://[2001:db8::1]:8554/cam</PREF></OBJECT>${TO_EDGE}`));
    assert.deepEqual(noAddr.paths.map((p) => [p.name, p.entry.source, p.entry.push?.[0].url]), [['cam', 'rtsp://[2001:db8::1]/cam', 'rtsp://10.0.0.2/cam']]);
  });

  it('encodes a url as DSS did and names the path by it, decoded', () => {
    const r = parseDssRelayConfig(relay(`<OBJECT CLASS="source" TYPE="rtsp_source"><PREF NAME="source_addr">10.0.0.1</PREF><PREF NAME="url">/my cam/é.sdp</PREF></OBJECT>${TO_EDGE}`));
    assert.deepEqual(r.paths.map((p) => [p.name, p.entry.source]), [['my cam/é', 'rtsp://10.0.0.1/my%20cam/%C3%A9.sdp']]);
    const bad = ['/~user/a.sdp', '/', '/a//b.sdp', '/a/../b.sdp'].map((url) => issues(parseDssRelayConfig(relay(`<OBJECT CLASS="source" TYPE="rtsp_source"><PREF NAME="source_addr">h</PREF><PREF NAME="url">${url}</PREF></OBJECT>${TO_EDGE}`))));
    assert.deepEqual(bad, [
      ["3 warn r: /~user/a.sdp cannot be a path name here ('~user/a' would read as a ~regex in paths:): skipped"],
      ['3 warn r: / cannot be a path name here (names no path): skipped'],
      ["3 warn r: /a//b.sdp cannot be a path name here ('a//b' has an empty, . or .. part): skipped"],
      ["3 warn r: /a/../b.sdp cannot be a path name here ('a/../b' has an empty, . or .. part): skipped"],
    ]);
  });

  it('maps udp_ports two apart to a forward, and skips ports Rivulet cannot send to', () => {
    const dest = (ports: string) => `<OBJECT CLASS="destination" TYPE="udp_destination"><PREF NAME="dest_addr">10.0.0.9</PREF><LIST-PREF NAME="udp_ports">${ports}</LIST-PREF></OBJECT>`;
    const ok = parseDssRelayConfig(relay(`${PULL}${dest('<VALUE>5000</VALUE><VALUE>5002</VALUE><VALUE>5004</VALUE>')}`));
    assert.deepEqual(ok.paths.map((p) => p.entry.forward), [[{ host: '10.0.0.9', port: 5000 }]]);
    const apart = parseDssRelayConfig(relay(`${PULL}${dest('<VALUE>5000</VALUE><VALUE>6000</VALUE>')}`));
    assert.deepEqual(apart.paths, []);
    assert.deepEqual(issues(apart), [
      '3 warn r: udp_ports 5000 6000 are not two apart from the first: Rivulet sends track N to the first port + 2N; destination skipped',
      '2 warn r: none of its destinations can be honoured: skipped',
    ]);
    const odd = parseDssRelayConfig(relay(`${PULL}${dest('<VALUE>5001</VALUE>')}${TO_EDGE}`));
    assert.deepEqual(odd.paths.map((p) => [p.entry.forward, p.entry.push?.length]), [[undefined, 1]]);
    assert.deepEqual(issues(odd), ['3 warn r: port 5001 is odd: RTP takes an even port and RTCP the odd one above it: destination skipped']);
  });

  it('reports each odd thing once with its line, and runs the rest', () => {
    const text = relay(
      [
        '<PREF NAME="enabled">yes</PREF>',
        '<OBJECT CLASS="source" TYPE="rtsp_source">',
        '<PREF NAME="source_addr">10.0.0.1</PREF>',
        '<PREF NAME="source_addr">10.0.0.3</PREF>',
        '<PREF NAME="url">/a.sdp</PREF>',
        '<PREF NAME="bandwidth">300</PREF>',
        '<PREF NAME="password">x</PREF>',
        '</OBJECT>',
        '<OBJECT CLASS="source" TYPE="udp_source"></OBJECT>',
        '<OBJECT CLASS="destination" TYPE="http_destination"><PREF NAME="dest_addr">10.0.0.4</PREF></OBJECT>',
        '<OBJECT CLASS="destination" TYPE="announced_destination"><PREF NAME="rtsp_port">99999</PREF><PREF NAME="dest_addr">10.0.0.5</PREF></OBJECT>',
        '<OBJECT CLASS="destination" TYPE="announced_destination"></OBJECT>',
        '<OBJECT CLASS="destination" TYPE="udp_destination"><PREF NAME="dest_addr">10.0.0.6</PREF></OBJECT>',
        '<OBJECT CLASS="destination" TYPE="udp_destination"><PREF NAME="dest_addr">10.0.0.6</PREF><PREF NAME="udp_base_port">6000</PREF><PREF NAME="ttl">lots</PREF></OBJECT>',
        '<COMMENT>x</COMMENT>',
        TO_EDGE,
      ].join('\n'),
    );
    const r = parseDssRelayConfig(text);
    assert.deepEqual(r.paths.map((p) => [p.name, p.entry]), [['a', { source: 'rtsp://10.0.0.1/a.sdp', push: [{ url: 'rtsp://10.0.0.2/a.sdp', transport: 'tcp', retry }] }]]);
    assert.deepEqual(issues(r), [
      "3 warn r: enabled is 'yes': only 'false' disables a relay (as in DSS), so it runs",
      '11 warn r: a second source: DSS used the first, and so does Rivulet',
      '17 info r: not a source, destination or the enabled pref: ignored, as DSS did',
      "6 warn r: 'source_addr' is given twice: the first is used, as DSS did",
      "8 info r: rtsp_source has no pref 'bandwidth': ignored, as DSS did",
      '9 warn r: a password without a name: no credentials are sent',
      "12 warn r: destination type 'http_destination' is unknown (DSS knew udp_destination and announced_destination): skipped",
      "13 warn r: rtsp_port '99999' is not a port from 1 to 65535: destination skipped",
      '14 warn r: announced_destination has no dest_addr: skipped',
      '15 warn r: udp_destination has neither udp_ports nor udp_base_port: skipped',
      "16 warn r: ttl 'lots' is not a whole number from 1 to 255: destination skipped",
    ]);
  });

  it('skips a relay without source or destination, and a path a relay before it feeds', () => {
    assert.deepEqual(issues(parseDssRelayConfig(relay(TO_EDGE))), ['2 warn r: has no <OBJECT CLASS="source">: skipped, as DSS skipped it']);
    assert.deepEqual(issues(parseDssRelayConfig(relay(PULL))), ['2 info r: has no destination: DSS ran nothing for it, and nor does Rivulet']);
    assert.deepEqual(issues(parseDssRelayConfig(relay('<OBJECT CLASS="source" TYPE="rtsp_source"><PREF NAME="url">/a.sdp</PREF></OBJECT>'))), [
      '3 warn r: rtsp_source has no source_addr (the server to pull from): skipped',
    ]);
    assert.deepEqual(issues(parseDssRelayConfig(relay('<OBJECT CLASS="source" TYPE="rtsp_source"><PREF NAME="source_addr">h</PREF></OBJECT>'))), [
      '3 warn r: rtsp_source has no url (the stream to request): skipped',
    ]);
    assert.deepEqual(issues(parseDssRelayConfig(relay(`${PULL.replace('</OBJECT>', '<PREF NAME="rtsp_port">rtsp</PREF></OBJECT>')}${TO_EDGE}`))), [
      "3 warn r: rtsp_port 'rtsp' is not a port from 1 to 65535: relay skipped",
    ]);
    assert.deepEqual(issues(parseDssRelayConfig(relay('<OBJECT CLASS="source" TYPE="file_source"><PREF NAME="path">/x</PREF></OBJECT>'))), [
      "3 warn r: source type 'file_source' is unknown (DSS knew rtsp_source, announced_source, udp_source, relay_sdp): skipped",
    ]);
    const twice = `<RELAY_CONFIG>\n<OBJECT TYPE="relay" NAME="one">${PULL}${TO_EDGE}</OBJECT>\n<OBJECT TYPE="relay" NAME="two">${PULL}${TO_EDGE}</OBJECT>\n<NOTE/>\n</RELAY_CONFIG>`;
    const r = parseDssRelayConfig(twice);
    assert.deepEqual(r.paths.map((p) => p.relay), ['one']);
    assert.deepEqual(issues(r), ["3 warn two: path 'a' is already fed by relay one (line 2): skipped", '4 info : not an <OBJECT TYPE="relay">: ignored, as DSS did']);
  });
});

describe('mergeDssPaths', () => {
  it('adds the relays, the YAML entry of the same name winning', () => {
    const r = parseDssRelayConfig(ADMIN_WRITTEN);
    const kept = mergeDssPaths({ 'live/lobby': { source: 'publisher' }, other: { graceTime: 2 } }, r.paths);
    assert.deepEqual(kept.paths, { 'live/lobby': { source: 'publisher' }, other: { graceTime: 2 } });
    assert.deepEqual(kept.issues.map((i) => `${i.line} ${i.relay}: ${i.reason}`), ["6 Lobby camera: paths.live/lobby in the YAML config says what 'live/lobby' is: this relay is not run"]);
    const added = mergeDssPaths({ other: { graceTime: 2 } }, r.paths);
    assert.deepEqual(Object.keys(added.paths), ['other', 'live/lobby']);
    assert.deepEqual(added.issues, []);
  });
});

describe('parseDssRelayConfig: hostile and broken files', () => {
  it('refuses a DOCTYPE: no entity is ever expanded (billion laughs, external entities)', () => {
    const laughs = `<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n${relay(`${PULL.replace('/a.sdp', '/&lol3;')}${TO_EDGE}`)}`;
    assert.throws(() => parseDssRelayConfig(laughs), (e: Error) => e instanceof DssConfigError && /^line 2: has a <!DOCTYPE>/.test(e.message));
    const external = `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${relay(PULL)}`;
    assert.throws(() => parseDssRelayConfig(external), /has a <!DOCTYPE>/);
    // Without a declaration an entity reference is only text, as DSS took it.
    const r = parseDssRelayConfig(relay(`${PULL.replace('/a.sdp', '/a&lol3;.sdp')}${TO_EDGE}`));
    assert.deepEqual(r.paths.map((p) => p.entry.source), ['rtsp://10.0.0.1/a&lol3;.sdp']);
  });

  it('refuses a file that is not well-formed, naming the line, as DSS refused it', () => {
    assert.throws(() => parseDssRelayConfig('<RELAY_CONFIG>\n<OBJECT TYPE="relay">\n</RELAY_CONFIG>\n'), (e: Error) => e instanceof DssConfigError && /^line 3: not well-formed XML: /.test(e.message));
    assert.throws(() => parseDssRelayConfig('<RELAY_CONFIG>\n<OBJECT TYPE="relay">'), /not well-formed XML/);
    assert.throws(() => parseDssRelayConfig('<RELAY_CONFIG><PREF NAME="a">x<y</PREF></RELAY_CONFIG>'), /not well-formed XML/);
    assert.throws(() => parseDssRelayConfig('relay_source "in_addr=1.2.3.4 in_ports=5000"\nrelay_destination "dest_addr=1.2.3.5 dest_ports=6000"\n'), (e: Error) => e instanceof DssConfigError && e.message.startsWith('is in the old streamingrelay.conf format'));
    assert.throws(() => parseDssRelayConfig(''), (e: Error) => e instanceof DssConfigError && e.message === 'is not XML: expected <RELAY_CONFIG>');
    assert.throws(() => parseDssRelayConfig('<!-- only a comment -->'), (e: Error) => e instanceof DssConfigError);
    assert.throws(() => parseDssRelayConfig('<?xml version="1.0"?>\n<CONFIGURATION></CONFIGURATION>'), (e: Error) => e instanceof DssConfigError && e.message === 'line 2: the root element is <CONFIGURATION>, not <RELAY_CONFIG>');
    assert.deepEqual(parseDssRelayConfig('\uFEFF<RELAY_CONFIG></RELAY_CONFIG>'), { paths: [], issues: [] });
  });

  it('refuses deep nesting and an oversized text, and reads at most MAX_RELAYS relays', () => {
    const deep = `<RELAY_CONFIG>${'<OBJECT>'.repeat(5000)}${'</OBJECT>'.repeat(5000)}</RELAY_CONFIG>`;
    assert.throws(() => parseDssRelayConfig(deep), (e: Error) => e instanceof DssConfigError);
    assert.throws(() => parseDssRelayConfig(`<RELAY_CONFIG>${' '.repeat(MAX_DSS_CONFIG_BYTES)}</RELAY_CONFIG>`), (e: Error) => e instanceof DssConfigError && /larger than/.test(e.message));
    const one = (i: number) => `<OBJECT TYPE="relay"><OBJECT CLASS="source" TYPE="rtsp_source"><PREF NAME="source_addr">h</PREF><PREF NAME="url">/s${i}</PREF></OBJECT>${TO_EDGE}</OBJECT>\n`;
    const many = `<RELAY_CONFIG>\n${Array.from({ length: MAX_RELAYS + 5 }, (_, i) => one(i)).join('')}</RELAY_CONFIG>`;
    assert.ok(Buffer.byteLength(many) < MAX_DSS_CONFIG_BYTES);
    const started = Date.now();
    const r = parseDssRelayConfig(many);
    assert.ok(Date.now() - started < 5000, 'a full file is read in well under a few seconds');
    assert.equal(r.paths.length, MAX_RELAYS);
    assert.deepEqual(issues(r), [`${MAX_RELAYS + 2} warn : more than ${MAX_RELAYS} relays: this one and those after it are not read`]);
  });
});

describe('readDssRelayConfig', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-dss-relays-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file, in Latin-1 when it is not UTF-8', async () => {
    const file = join(dir, 'relayconfig.xml');
    writeFileSync(file, ADMIN_WRITTEN);
    assert.deepEqual((await readDssRelayConfig(file)).paths.map((p) => p.name), ['live/lobby']);
    const latin = join(dir, 'latin1.xml');
    writeFileSync(latin, Buffer.from(relay(`${PULL.replace('/a.sdp', '/caf\u00e9.sdp')}${TO_EDGE}`), 'latin1'));
    assert.deepEqual((await readDssRelayConfig(latin)).paths.map((p) => p.name), ['caf\u00e9']);
  });

  it('names the file when it cannot be used, and never reads a huge or special one', async () => {
    await assert.rejects(readDssRelayConfig(join(dir, 'missing.xml')), (e: Error) => e instanceof DssConfigError && e.message === `cannot read ${join(dir, 'missing.xml')}: no such file`);
    const big = join(dir, 'big.xml');
    writeFileSync(big, Buffer.alloc(MAX_DSS_CONFIG_BYTES + 1, 0x20));
    await assert.rejects(readDssRelayConfig(big), (e: Error) => e instanceof DssConfigError && e.message === `${big} is larger than ${MAX_DSS_CONFIG_BYTES} bytes: not read`);
    await assert.rejects(readDssRelayConfig(dir), (e: Error) => e instanceof DssConfigError && e.message === `${dir} is not a regular file`);
    const fifo = join(dir, 'fifo.xml');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(readDssRelayConfig(fifo), (e: Error) => e instanceof DssConfigError && /is not a regular file/.test(e.message));
    const broken = join(dir, 'broken.xml');
    writeFileSync(broken, '<RELAY_CONFIG>\n<OBJECT>\n');
    await assert.rejects(readDssRelayConfig(broken), (e: Error) => e instanceof DssConfigError && e.message.startsWith(`${broken}: line `));
  });
});
