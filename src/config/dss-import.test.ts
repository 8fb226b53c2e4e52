import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { DssXmlError, dssWildcardToCidr, formatDssReport, importDssXml, parseDssXml, prefLabel, type DssImportResult } from './dss-import.js';
import { loadConfig } from './load.js';

const FIXTURE = readFileSync(new URL('../../test/fixtures/dss/streamingserver.xml', import.meta.url), 'utf8');

/** A streamingserver.xml holding these SERVER prefs and modules. */
function xml(server: string, modules = ''): string {
  return `<?xml version ="1.0"?>\n<CONFIGURATION>\n<SERVER>\n${server}\n</SERVER>\n${modules}\n</CONFIGURATION>\n`;
}
const pref = (name: string, value: string) => `<PREF NAME="${name}">${value}</PREF>`;
const list = (name: string, values: string[]) => `<LIST-PREF NAME="${name}">${values.map((v) => `<VALUE>${v}</VALUE>`).join('')}</LIST-PREF>`;
const moduleOf = (name: string, body: string) => `<MODULE NAME="${name}">${body}</MODULE>`;

const mappedTo = (r: DssImportResult, pref: string) => r.mapped.find((m) => m.pref === pref);
const whyNot = (r: DssImportResult, pref: string) => r.unmapped.find((u) => u.pref === pref)?.why;

/** The config `r` wrote, as rivulet serve would load it. */
function load(r: DssImportResult) {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-dss-import-'));
  try {
    const file = join(dir, 'rivulet.yaml');
    writeFileSync(file, r.yaml);
    return loadConfig({ configFile: file });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('importDssXml on a DSS 6.0.3 streamingserver.xml', () => {
  const r = importDssXml(FIXTURE, { source: '/etc/streaming/streamingserver.xml', baseDir: '/etc/streaming', playlistsFolder: '/var/streaming/playlists' });

  it('lists every pref of the file once, mapped or not', () => {
    const { prefs } = parseDssXml(FIXTURE);
    assert.equal(prefs.length, 178);
    const listed = [...r.mapped.filter((m) => m.module !== 'PlaylistBroadcaster'), ...r.unmapped].map(prefLabel).sort();
    assert.deepEqual(listed, prefs.map((p) => prefLabel({ module: p.module || undefined, pref: p.name })).sort());
    assert.ok(r.mapped.every((m) => !m.absent), 'the file has every pref: no DSS default stood in');
    const lines = formatDssReport(r).trimEnd().split('\n');
    assert.equal(lines.length, r.mapped.length + r.unmapped.length + r.notes.length, 'one line per pref');
  });

  it('carries over Instant-On, Speed and the flow-control module (thinning) settings', () => {
    const cfg = load(r);
    assert.deepEqual([cfg.vod.overbufferRate, cfg.vod.maxSendAheadTime, cfg.vod.maxSpeed], [2, 25, 4]);
    assert.deepEqual(cfg.retransmit.thinning, { enabled: false, thinPercent: 30, thinReports: 3, thickenPercent: 5, thickenReports: 6 });
    // A key two sections deep is written under its sections, with its comment.
    assert.match(r.yaml, /^retransmit:\n(?: {4}.*\n| {2}reliableUdp:\n)* {2}thinning:\n {4}# from QTSSFlowControlModule loss_thin_tolerance 30\n {4}thinPercent: 30$/m);
    assert.match(r.yaml, /^ {4}# from QTSSFlowControlModule flow_control_udp_thinning_module_enabled false\n {4}enabled: false$/m);
  });

  it("carries over reliable UDP (QuickTime's Skip Protection) on/off and its slow start", () => {
    assert.deepEqual(load(r).retransmit.reliableUdp, { enabled: true, slowStart: true });
    assert.equal(whyNot(r, 'reliable_udp'), undefined);
    const off = load(importDssXml(xml(pref('reliable_udp', 'false') + pref('reliable_udp_slow_start', 'false'))));
    assert.deepEqual(off.retransmit.reliableUdp, { enabled: false, slowStart: false });
  });

  it('leaves out a thinning setting the schema refuses, and keeps the rest of the section', () => {
    const r2 = importDssXml(xml('', moduleOf('QTSSFlowControlModule', pref('loss_thin_tolerance', '5') + pref('loss_thick_tolerance', '20') + pref('num_losses_to_thin', '4'))));
    assert.match(whyNot(r2, 'loss_thick_tolerance')!, /retransmit\.thinning\.thickenPercent would not be valid/);
    assert.deepEqual(load(r2).retransmit.thinning, { enabled: true, thinPercent: 5, thinReports: 4, thickenPercent: 5, thickenReports: 6 });
    const r3 = importDssXml(xml(pref('overbuffer_rate', '2.5x') + pref('max_send_ahead_time', '99')));
    assert.match(whyNot(r3, 'overbuffer_rate')!, /not a number/);
    assert.match(whyNot(r3, 'max_send_ahead_time')!, /outside what vod\.maxSendAheadTime takes/);
  });

  it('writes a config rivulet serve loads, with the DSS values', () => {
    const cfg = load(r);
    assert.deepEqual(cfg.rtsp.ports, [554, 7070, 8000, 8001, 80]);
    assert.deepEqual(cfg.rtsp.bind, ['0.0.0.0', '::'], 'bind_ip_addr 0 is every address');
    assert.equal(cfg.rtsp.sessionTimeout, 120);
    assert.equal(cfg.media.dir, '/usr/local/movies');
    assert.equal(cfg.limits.maxConnections, 0, 'maximum_connections -1 is unlimited');
    assert.equal(cfg.limits.maxBandwidthKbps, 102400);
    assert.deepEqual(cfg.live.publishAllow, ['127.0.0.0/24', '192.168.10.0/24', '::1']);
    assert.equal(cfg.live.publisherTimeout, 30);
    assert.deepEqual(
      { scheme: cfg.auth.scheme, realm: cfg.auth.realm, guest: cfg.auth.allowGuestDefault, users: cfg.auth.usersFile, groups: cfg.auth.groupsFile, access: cfg.auth.accessFileName, broadcasters: cfg.auth.broadcasterGroup },
      { scheme: 'digest', realm: 'Streaming Server', guest: true, users: '/etc/streaming/qtusers', groups: '/etc/streaming/qtgroups', access: 'qtaccess', broadcasters: 'broadcaster' },
    );
    assert.deepEqual(
      { ...cfg.logs, folder: cfg.logs.folder },
      { folder: '/var/streaming/logs', access: true, error: true, errorVerbosity: 3, accessRollSize: 10240000, accessRollDays: 7, errorRollSize: 256000, errorRollDays: 7, gmt: true },
    );
    assert.equal(cfg.relays.dssConfig, '/etc/streaming/relayconfig.xml');
    assert.equal(cfg.playlists.folder, '/var/streaming/playlists');
    assert.equal(cfg.admin.group, 'admin');
  });

  it('says in the YAML which pref each key comes from, and lists what it left out', () => {
    assert.match(r.yaml, /^# Rivulet config written by rivulet import-dss from \/etc\/streaming\/streamingserver\.xml/);
    assert.match(r.yaml, /^ {2}# from movie_folder \/usr\/local\/movies\/\n {2}dir: \/usr\/local\/movies\/$/m);
    assert.match(r.yaml, /^ {2}# from QTSSAccessLogModule request_logtime_in_gmt true\n {2}gmt: true$/m);
    assert.match(r.yaml, /^ {2}ports: \[554, 7070, 8000, 8001, 80\]$/m);
    assert.match(r.yaml, /^# DSS prefs not carried over, and why:$/m);
    const trailer = r.yaml.slice(r.yaml.indexOf('# DSS prefs not carried over'));
    assert.match(trailer, /^# {3,5}[^\n]*\bsmall_window_size,/m);
    assert.match(trailer.replace(/\n#\s+/g, ' '), /window_size_threshold, .*: Rivulet's reliable UDP picks DSS's default windows from the presentation's bit rate/);
    assert.ok(trailer.split('\n').every((l) => l === '' || l.startsWith('#')), 'all of it comments');
  });

  it('gives each pref it cannot map a reason', () => {
    assert.match(whyNot(r, 'reliable_udp_dirs')!, /reliable UDP is for every path/);
    assert.match(whyNot(r, 'rtcp_poll_interval')!, /every 50 ms while any are outstanding/);
    assert.match(whyNot(r, 'run_user_name')!, /runs as the user that starts it/);
    assert.match(whyNot(r, 'drop_all_video_delay')!, /thins a UDP viewer by the loss its receiver reports/);
    assert.match(whyNot(r, 'num_worses_to_thin')!, /loss viewers report alone/);
    assert.match(whyNot(r, 'module_folder')!, /loads no modules/);
    assert.match(whyNot(r, 'real_rtsp_timeout')!, /rtsp\.sessionTimeout/);
    assert.match(whyNot(r, 'LocalAccessOnly')!, /admin protocol/);
    assert.match(whyNot(r, 'enabled')!, /home folders/, 'QTSSHomeDirectoryModule');
    assert.ok(r.unmapped.every((u) => u.why.length > 10));
  });

  it('never shows a password: only the key that needs it holds it', () => {
    const mp3 = mappedTo(r, 'mp3_broadcast_password')!;
    assert.deepEqual([mp3.value, mp3.to, mp3.key], ['(hidden)', '(hidden)', 'radio.sourcePassword']);
    assert.ok(!formatDssReport(r).includes('hunter2'));
    assert.equal(r.yaml.split('hunter2').length, 2, 'once in the YAML');
    assert.match(r.yaml, /^ {2}# from QTSSMP3StreamingModule mp3_broadcast_password \(hidden\)[^\n]*\n(?: {2}#[^\n]*\n)* {2}sourcePassword: hunter2$/m);
  });

  it("maps DSS's MP3 module to radio: no port of its own, its password and its slow-listener limit", () => {
    const cfg = load(r);
    assert.deepEqual(cfg.radio.ports, [], 'DSS took MP3 on its RTSP ports, as Rivulet does');
    assert.ok(!cfg.rtsp.ports.some((p) => cfg.radio.ports.includes(p)), 'no port listened on twice');
    assert.equal(cfg.radio.sourcePassword, 'hunter2');
    assert.equal(cfg.radio.maxFlowControlTime, 10, '10000 ms');
    assert.match(mappedTo(r, 'mp3_streaming_enabled')!.note!, /on rtsp\.ports too.*SHOUTcast v1 .* radio\.ports only/);
    assert.match(mappedTo(r, 'mp3_max_flow_control_time')!.note!, /milliseconds in DSS, seconds in Rivulet/);
    assert.match(whyNot(r, 'mp3_broadcast_buffer_size')!, /read size.*radio\.maxFlowControlTime/);
    for (const log of ['mp3_request_logging', 'mp3_request_logfile_name', 'mp3_request_logfile_dir', 'mp3_request_logfile_size', 'mp3_request_logfile_interval', 'mp3_request_logtime_in_gmt']) {
      assert.match(whyNot(r, log)!, /access log \(StreamingServer\.log/, log);
    }
    assert.match(r.yaml, /^radio:\n(?: {2}[^\n]*\n)*? {2}ports: \[\]$/m);
    assert.doesNotMatch(formatDssReport(r), /no MP3/);
  });

  it('tells the caller which files to look at', () => {
    assert.deepEqual(r.files, {
      movieFolder: '/usr/local/movies/',
      relayConfig: '/etc/streaming/relayconfig.xml',
      usersFile: '/etc/streaming/qtusers',
      groupsFile: '/etc/streaming/qtgroups',
      accessFileName: 'qtaccess',
      rtspPorts: [554, 7070, 8000, 8001, 80],
    });
  });
});

describe('importDssXml pref by pref', () => {
  it('limits: -1 is no limit, 0 (DSS refused everyone) cannot be said', () => {
    const r = importDssXml(xml(pref('maximum_connections', '0') + pref('maximum_bandwidth', '-1')));
    assert.match(whyNot(r, 'maximum_connections')!, /refuse every viewer/);
    assert.equal(r.config.limits.maxConnections, undefined);
    assert.equal(r.config.limits.maxBandwidthKbps, 0);
  });

  it('bind_ip_addr names addresses; an address that is none is left out', () => {
    const r = importDssXml(xml(list('bind_ip_addr', ['192.168.1.5', 'eth0'])));
    assert.deepEqual(r.config.rtsp.bind, ['192.168.1.5']);
    assert.match(mappedTo(r, 'bind_ip_addr')!.note!, /eth0 left out/);
  });

  it('authenticate_local_broadcast true: every publisher logs in', () => {
    for (const order of [0, 1]) {
      const prefs = [pref('ip_allow_list', '127.0.0.*'), pref('authenticate_local_broadcast', 'true')];
      const r = importDssXml(xml('', moduleOf('QTSSReflectorModule', (order ? prefs.reverse() : prefs).join(''))));
      assert.deepEqual(r.config.live.publishAllow, []);
      assert.deepEqual(load(r).live.publishAllow, []);
    }
  });

  it('ip_allow_list: trailing wildcards become CIDRs, others are refused with the reason', () => {
    const r = importDssXml(xml('', moduleOf('QTSSReflectorModule', pref('ip_allow_list', '10.*.3.*'))));
    assert.match(whyNot(r, 'ip_allow_list')!, /a wildcard only stands for the last parts/);
    assert.equal(r.config.live, undefined);
    const ok = importDssXml(xml('', moduleOf('QTSSReflectorModule', list('ip_allow_list', ['10.1.*', '192.0.2.7', '*.*.*.*']))));
    assert.deepEqual(ok.config.live.publishAllow, ['10.1.0.0/16', '192.0.2.7', '0.0.0.0/0', '::1']);
  });

  it('out-of-range values are brought in range or refused, never written invalid', () => {
    const r = importDssXml(
      xml(
        pref('error_logfile_verbosity', '9') + pref('rtp_timeout', '2') + pref('authentication_scheme', 'kerberos') + list('rtsp_port', ['554', '99999']),
        moduleOf('QTSSReflectorModule', pref('timeout_broadcaster_session_secs', '0') + pref('kill_clients_when_broadcast_stops', 'maybe')),
      ),
    );
    assert.equal(r.config.logs.errorVerbosity, 4);
    assert.equal(r.config.rtsp.sessionTimeout, 5);
    assert.deepEqual(r.config.rtsp.ports, [554]);
    assert.match(mappedTo(r, 'rtsp_port')!.note!, /99999 left out/);
    assert.match(whyNot(r, 'authentication_scheme')!, /not basic, digest or none/);
    assert.match(whyNot(r, 'timeout_broadcaster_session_secs')!, /outside/);
    assert.match(whyNot(r, 'kill_clients_when_broadcast_stops')!, /neither true nor false/);
    load(r);
  });

  it('kill_clients_when_broadcast_stops true: viewers go with the publisher (graceTime 0)', () => {
    const r = importDssXml(xml('', moduleOf('QTSSReflectorModule', pref('kill_clients_when_broadcast_stops', 'true'))));
    assert.equal(r.config.live.graceTime, 0);
  });

  it('RTSP_server_info false leaves the Server header out; booleans read as DSS did', () => {
    const r = importDssXml(xml(pref('RTSP_server_info', 'disabled') + pref('enable_allow_guest_default', 'false')));
    assert.equal(r.config.rtsp.serverHeader, '');
    assert.equal(r.config.auth.allowGuestDefault, false);
  });

  it('different error and access log folders: the first is logs.folder, the other is reported', () => {
    const r = importDssXml(xml(pref('error_logfile_dir', '/var/log/a'), moduleOf('QTSSAccessLogModule', pref('request_logfile_dir', '/var/log/b') + pref('request_logfile_name', 'Access'))));
    assert.equal(r.config.logs.folder, '/var/log/a');
    assert.match(whyNot(r, 'request_logfile_dir')!, /one folder, logs\.folder.*\/var\/log\/a/);
    assert.match(whyNot(r, 'request_logfile_name')!, /StreamingServer\.log/);
  });

  it('prefs the file leaves out run with DSS defaults where Rivulet differs, marked as such', () => {
    const r = importDssXml(xml(''));
    assert.deepEqual(r.config.rtsp.ports, [554, 7070, 8000, 8001]);
    assert.equal(r.config.media.dir, '/usr/local/movies/');
    assert.equal(r.config.rtsp.sessionTimeout, 120);
    assert.equal(r.config.logs.folder, '/var/streaming/logs/');
    assert.ok(r.mapped.length > 0 && r.mapped.every((m) => m.absent));
    assert.match(formatDssReport(r), /^mapped: +movie_folder \/usr\/local\/movies\/ \(not in the file: DSS's default\) → media\.dir/m);
  });

  it('an XML without the MP3 module: DSS ran it on its RTSP ports, so no radio port of its own', () => {
    const r = importDssXml(xml(''));
    assert.deepEqual(r.config.radio, { ports: [] });
    assert.ok(mappedTo(r, 'mp3_streaming_enabled')!.absent);
    const cfg = load(r);
    assert.deepEqual([cfg.rtsp.ports, cfg.radio.ports], [[554, 7070, 8000, 8001], []], "8000 is an RTSP port, not opened again for radio");
  });

  it('mp3_streaming_enabled false: no radio port, the password not carried over, and the report says RTSP ports still take radio', () => {
    const r = importDssXml(xml(list('rtsp_port', ['554']), moduleOf('QTSSMP3StreamingModule', pref('mp3_broadcast_password', 'pw') + pref('mp3_streaming_enabled', 'false'))));
    assert.deepEqual(load(r).radio.ports, []);
    assert.equal(r.config.radio.sourcePassword, undefined);
    assert.match(whyNot(r, 'mp3_broadcast_password')!, /mp3_streaming_enabled is false/);
    assert.match(formatDssReport(r), /^mapped: +QTSSMP3StreamingModule mp3_streaming_enabled false → radio\.ports: \[\] \(DSS answered MP3 requests with 503: .*still takes Icecast sources .* on rtsp\.ports\)$/m);
    assert.ok(!r.yaml.includes('pw\n') && !formatDssReport(r).includes(' pw'));
  });

  it('MP3 prefs: milliseconds become seconds within range; an empty password is no password; unknown ones are listed', () => {
    const mp3 = (body: string) => importDssXml(xml('', moduleOf('QTSSMP3StreamingModule', body)));
    let r = mp3(pref('mp3_max_flow_control_time', '2500') + pref('mp3_broadcast_password', '') + pref('mp3_request_timeout', '30') + pref('mp3_shiny', '1'));
    assert.equal(load(r).radio.maxFlowControlTime, 2.5);
    assert.equal(mappedTo(r, 'mp3_broadcast_password')!.to, undefined, "'' is Rivulet's default too");
    assert.match(mappedTo(r, 'mp3_broadcast_password')!.note!, /auth\.broadcasterGroup/);
    assert.match(whyNot(r, 'mp3_request_timeout')!, /limits\.requestTimeout/);
    assert.match(whyNot(r, 'mp3_shiny')!, /not a DSS 6\.0\.3 pref/);
    r = mp3(pref('mp3_max_flow_control_time', '99999999'));
    assert.equal(load(r).radio.maxFlowControlTime, 600);
    assert.match(mappedTo(r, 'mp3_max_flow_control_time')!.note!, /outside 1 to 600 s/);
    r = mp3(pref('mp3_max_flow_control_time', '0'));
    assert.equal(r.config.radio.maxFlowControlTime, undefined);
    assert.match(whyNot(r, 'mp3_max_flow_control_time')!, /keeps its default, 10 s/);
  });

  it('relative paths are taken from the XML folder', () => {
    const r = importDssXml(xml(pref('movie_folder', 'Movies')), { baseDir: '/opt/dss' });
    assert.equal(r.config.media.dir, '/opt/dss/Movies');
    assert.match(mappedTo(r, 'movie_folder')!.note!, /relative in DSS/);
  });

  it('unknown prefs and modules, repeated prefs and non-prefs are listed', () => {
    const r = importDssXml(
      xml(pref('movie_folder', '/a') + pref('movie_folder', '/b') + pref('shiny_new_pref', 'x') + '<OBJECT NAME="o"></OBJECT>', moduleOf('QTSSShinyModule', pref('x', '1'))),
    );
    assert.equal(r.config.media.dir, '/a');
    assert.deepEqual(
      r.unmapped.map((u) => [prefLabel(u), u.why.replace(/:.*/, '')]),
      [
        ['<OBJECT NAME="o">', 'not a PREF or LIST-PREF with a NAME'],
        ['movie_folder', 'given twice'],
        ['shiny_new_pref', 'not a DSS 6.0.3 pref Rivulet knows'],
        ['QTSSShinyModule x', 'QTSSShinyModule is not a DSS 6.0.3 module Rivulet knows'],
      ],
    );
  });

  it('facts: the relays, playlists, access files and missing files become report lines', () => {
    const r = importDssXml(FIXTURE, {
      playlistsFolder: '/pl',
      facts: {
        relays: { paths: [{ name: 'relayed', relay: 'From the origin', source: 'rtsp://127.0.0.1:5554/origin', push: 0, forward: 1 }], issues: [{ line: 9, relay: 'x', level: 'warn', reason: 'in_addr is not honoured' }] },
        playlists: { playlists: [{ key: 'news', playlistFile: '/pl/news/news.playlist' }], problems: [] },
        accessFiles: ['/usr/local/movies/members/qtaccess'],
        missing: ['/etc/streaming/qtgroups'],
      },
    });
    const report = formatDssReport(r);
    assert.match(report, /^relay: +"From the origin" → path relayed: pulled from rtsp:\/\/127\.0\.0\.1:5554\/origin, sent by UDP to 1 destination$/m);
    assert.match(report, /^relay issue: line 9 \(relay "x"\): in_addr is not honoured$/m);
    assert.match(report, /^playlist: +\/pl\/news\/news\.playlist → path news$/m);
    assert.match(report, /^qtaccess: +\/usr\/local\/movies\/members\/qtaccess: read as it is/m);
    assert.match(report, /^warning: +auth\.groupsFile \/etc\/streaming\/qtgroups does not exist/m);
  });

  it('a relay config that is not there is not written', () => {
    const r = importDssXml(FIXTURE, { facts: { relays: { missing: true } } });
    assert.equal(r.config.relays, undefined);
    assert.match(whyNot(r, 'relay_prefs_file')!, /does not exist/);
    const byDefault = importDssXml(xml(''), { facts: { relays: { missing: true } } });
    assert.equal(byDefault.config.relays, undefined);
    assert.equal(whyNot(byDefault, 'relay_prefs_file'), undefined, 'not in the file, not there: nothing to say');
  });
});

describe('parseDssXml refuses what is not a DSS config, with a clear reason', () => {
  const cases: [string, string, RegExp][] = [
    ['empty', '', /not XML/],
    ['text', 'movie_folder /x', /not XML/],
    ['unclosed', '<CONFIGURATION><SERVER>', /is not well-formed XML: line 1/],
    ['another root', '<Server version="8"></Server>', /has the root element <Server>, not <CONFIGURATION>/],
    ['a relay config', '<RELAY_CONFIG></RELAY_CONFIG>', /relay config/],
    ['an entity', '<!DOCTYPE C [<!ENTITY x "y">]><CONFIGURATION/>', /ENTITY/],
    ['too large', `<CONFIGURATION>${' '.repeat(1024 * 1024)}</CONFIGURATION>`, /larger than/],
  ];
  for (const [what, text, re] of cases) {
    it(what, () => assert.throws(() => importDssXml(text), (e: unknown) => e instanceof DssXmlError && re.test(e.message)));
  }

  it('takes DSS values as written: & unescaped, whitespace trimmed', () => {
    const { prefs } = parseDssXml(xml(pref('default_authorization_realm', ' R&D ')));
    assert.deepEqual(prefs, [{ module: '', name: 'default_authorization_realm', values: ['R&D'] }]);
  });
});

describe('dssWildcardToCidr', () => {
  it('reads DSS wildcards', () => {
    assert.equal(dssWildcardToCidr('127.0.0.*'), '127.0.0.0/24');
    assert.equal(dssWildcardToCidr('10.*'), '10.0.0.0/8');
    assert.equal(dssWildcardToCidr('*.*.*.*'), '0.0.0.0/0');
    assert.equal(dssWildcardToCidr('192.0.2.1'), '192.0.2.1');
    assert.equal(dssWildcardToCidr('2001:db8::/32'), '2001:db8::/32');
    for (const bad of ['*.1.2.3', '1.*.3.4', '256.1.*', '1.2.3', 'localhost', '1.2.3.4.*', '10.0.0.0/33']) assert.equal(dssWildcardToCidr(bad), undefined, bad);
  });
});

describe('importDssXml on arbitrary values', () => {
  const names = ['rtsp_port', 'bind_ip_addr', 'movie_folder', 'maximum_connections', 'maximum_bandwidth', 'rtp_timeout', 'authentication_scheme', 'default_authorization_realm', 'error_logfile_size', 'error_logfile_interval', 'error_logfile_verbosity', 'error_logging', 'RTSP_server_info'];
  const value = fc.oneof(fc.integer({ min: -5, max: 1e12 }).map(String), fc.constantFrom('true', 'false', 'digest', '', '0', '-1', '127.0.0.1', '/x'), fc.string({ maxLength: 20 }).map((s) => s.replace(/[<&]/g, '')));
  it('writes only configs that load, and lists every pref', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 12 }), (prefs) => {
        const r = importDssXml(xml(prefs.map(([n, v]) => pref(n, v)).join('')));
        assert.equal(r.mapped.filter((m) => !m.absent).length + r.unmapped.length, prefs.length);
        load(r);
        assert.deepEqual(parseYaml(r.yaml) ?? {}, r.config);
      }),
      { numRuns: 150 },
    );
  });
});
