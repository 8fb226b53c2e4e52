import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ClientRecord } from '../core/clients.js';
import {
  ACCESS_FIELDS,
  AccessLog,
  accessHeader,
  formatAccessLine,
  parseUserAgent,
  textField,
} from './access-log.js';

const ended = Date.UTC(2024, 4, 1, 12, 0, 30);

function record(over: Partial<ClientRecord> = {}): ClientRecord {
  return {
    kind: 'rtsp-file',
    protocol: 'rtsp',
    address: '192.0.2.7',
    url: 'rtsp://example.com:554/movies/sample.mp4',
    path: 'movies/sample.mp4',
    transport: 'UDP',
    userAgent: 'QTS (qtver=6.5;cpu=PPC;os=Mac 10.3;lang=en;qtid=ABC123)',
    user: 'alice',
    bytesSent: 1_000_000,
    packetsSent: 1000,
    bytesReceived: 2000,
    packetsLost: 10,
    status: 200,
    startedAt: ended - 20_000,
    endedAt: ended,
    playStart: 0,
    fileLength: 59.6,
    fileSize: 4_500_000,
    audioCodec: 'MPEG4-GENERIC',
    videoCodec: 'H264',
    packetsReceived: 990,
    realm: 'Streaming Server',
    reason: 'teardown',
    ...over,
  };
}

const ctx = {
  gmt: true,
  totalClients: 3,
  cpuPercent: 12.4,
  serverIp: '192.0.2.1',
  serverDns: 'media.example.com',
};

/** The line as field name → value (date and time are two fields, as W3C has them). */
function fields(line: string): Record<string, string> {
  assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, 'one line');
  const values = line.slice(0, -1).split(' ');
  assert.equal(values.length, ACCESS_FIELDS.length, `one value per field: ${line}`);
  return Object.fromEntries(ACCESS_FIELDS.map((f, i) => [f, values[i]]));
}

describe('access log line', () => {
  it("has DSS 6.0.3's 39 fields in order", () => {
    assert.equal(ACCESS_FIELDS.length, 39);
    assert.equal(
      ACCESS_FIELDS.join(' '),
      'c-ip date time c-dns cs-uri-stem c-starttime x-duration c-rate c-status c-playerid c-playerversion c-playerlanguage cs(User-Agent) c-os c-osversion c-cpu filelength filesize avgbandwidth protocol transport audiocodec videocodec sc-bytes cs-bytes c-bytes s-pkts-sent c-pkts-received c-pkts-lost-client c-buffercount c-totalbuffertime c-quality s-ip s-dns s-totalclients s-cpu-util cs-uri-query c-username sc(Realm)',
    );
  });

  it('fills each field from the record', () => {
    assert.deepEqual(fields(formatAccessLine(record(), ctx)), {
      'c-ip': '192.0.2.7',
      date: '2024-05-01',
      time: '12:00:30',
      'c-dns': '-',
      'cs-uri-stem': '/movies/sample.mp4',
      'c-starttime': '0',
      'x-duration': '20',
      'c-rate': '1',
      'c-status': '200',
      'c-playerid': 'ABC123',
      'c-playerversion': '6.5',
      'c-playerlanguage': 'en',
      'cs(User-Agent)': 'QTS%20(qtver=6.5;cpu=PPC;os=Mac%2010.3;lang=en;qtid=ABC123)',
      'c-os': 'Mac',
      'c-osversion': '10.3',
      'c-cpu': 'PPC',
      filelength: '60',
      filesize: '4500000',
      avgbandwidth: '400000',
      protocol: 'RTP',
      transport: 'UDP',
      audiocodec: 'MPEG4-GENERIC',
      videocodec: 'H264',
      'sc-bytes': '1000000',
      'cs-bytes': '2000',
      'c-bytes': '990000',
      's-pkts-sent': '1000',
      'c-pkts-received': '990',
      'c-pkts-lost-client': '10',
      'c-buffercount': '1',
      'c-totalbuffertime': '0',
      'c-quality': '99',
      's-ip': '192.0.2.1',
      's-dns': 'media.example.com',
      's-totalclients': '3',
      's-cpu-util': '12',
      'cs-uri-query': '-',
      'c-username': 'alice',
      'sc(Realm)': 'Streaming%20Server',
    });
  });

  it('puts the date and time of the end in GMT, or in local time', () => {
    assert.match(formatAccessLine(record(), ctx), /^192\.0\.2\.7 2024-05-01 12:00:30 - /);
    const local = new Date(ended);
    const two = (n: number) => String(n).padStart(2, '0');
    const want = `${local.getFullYear()}-${two(local.getMonth() + 1)}-${two(local.getDate())} ${two(local.getHours())}:${two(local.getMinutes())}:${two(local.getSeconds())}`;
    assert.ok(formatAccessLine(record(), { ...ctx, gmt: false }).startsWith(`192.0.2.7 ${want} `));
  });

  it('writes - for what is unknown, the query from the URL, and never a space or line break inside a field', () => {
    const line = formatAccessLine(
      record({
        userAgent: undefined,
        user: undefined,
        realm: undefined,
        audioCodec: undefined,
        packetsReceived: undefined,
        url: 'rtsp://h/a b.mp4?x=1',
        address: '',
      }),
      ctx,
    );
    const f = fields(line);
    const at = (name: string) => f[name];
    assert.equal(at('c-ip'), '-');
    assert.equal(at('cs(User-Agent)'), '-');
    assert.equal(at('c-playerid'), '-');
    assert.equal(at('c-os'), '-');
    assert.equal(at('audiocodec'), '-');
    assert.equal(at('c-username'), '-');
    assert.equal(at('sc(Realm)'), '-');
    assert.equal(at('cs-uri-stem'), '/a%20b.mp4');
    assert.equal(at('cs-uri-query'), 'x=1');
    assert.equal(
      fields(formatAccessLine(record({ query: 'q=1\n#forged' }), ctx))['cs-uri-query'],
      'q=1%0A#forged',
    );
    assert.equal(at('c-pkts-received'), '0', 'no report from the client: 0, as DSS');
    assert.equal(at('c-quality'), '99', 'what was not lost of what was sent');
  });

  it('reckons quality and c-bytes from loss; nothing sent is quality 0, no loss heard is 100', () => {
    const q = (r: Partial<ClientRecord>) => {
      const f = fields(formatAccessLine(record(r), ctx));
      return { quality: f['c-quality'], cBytes: f['c-bytes'] };
    };
    assert.deepEqual(q({ packetsSent: 0, bytesSent: 0, packetsLost: 0, packetsReceived: undefined }), {
      quality: '0',
      cBytes: '0',
    });
    assert.deepEqual(q({ packetsLost: 0, packetsReceived: undefined }), {
      quality: '100',
      cBytes: '1000000',
    });
    assert.deepEqual(q({ packetsLost: 250, packetsReceived: 750 }), { quality: '75', cBytes: '750000' });
  });

  it('writes counters whole past 32 bits', () => {
    assert.equal(
      fields(formatAccessLine(record({ bytesSent: 6_000_000_000 }), ctx))['sc-bytes'],
      '6000000000',
    );
  });

  it('names the protocol RTP for RTSP sessions and the others as they are', () => {
    assert.equal(fields(formatAccessLine(record({ protocol: 'rtsps' }), ctx)).protocol, 'RTP');
    const icy = fields(formatAccessLine(record({ protocol: 'icy', transport: 'tcp' }), ctx));
    assert.deepEqual([icy.protocol, icy.transport], ['ICY', 'TCP']);
  });

  it('writes transport UDP or TCP only, as DSS log tools expect: a tunnel or TLS session is TCP', () => {
    const transport = (t: string) => fields(formatAccessLine(record({ transport: t }), ctx)).transport;
    assert.deepEqual(
      ['UDP', 'udp', 'TCP', 'HTTP', 'TLS'].map(transport),
      ['UDP', 'UDP', 'TCP', 'TCP', 'TCP'],
    );
    assert.equal(transport(''), '-');
  });
});

describe('User-Agent tokens', () => {
  it('reads the QuickTime tokens, the first of each name, and splits an os with a version', () => {
    assert.deepEqual(
      parseUserAgent(textField('QuickTime/7.6 (qtver=7.6;cpu=IA32;os=Windows NT 5.1Service Pack 2)')),
      {
        version: '7.6',
        cpu: 'IA32',
        os: 'Windows',
        osVersion: 'NT%205.1Service%20Pack%202',
      },
    );
    assert.equal(
      parseUserAgent(`Q (qtver=${'9'.repeat(40)})`).version,
      '9'.repeat(31),
      'DSS kept 31 characters of each',
    );
    assert.deepEqual(parseUserAgent('QTS%20(qtver=4.1;%20os=Mac;osver=9.1;qtver=9)'), {
      version: '4.1',
      os: 'Mac',
      osVersion: '9.1',
    });
  });

  it('finds nothing in a User-Agent without them', () => {
    assert.deepEqual(parseUserAgent(textField('Lavf60.16.100')), {});
    assert.deepEqual(parseUserAgent(textField('VLC (no tokens; here)')), {});
  });

  it('encodes white space and control characters, never leaving a bare -', () => {
    assert.equal(textField('a b\tc\r\n'), 'a%20b%09c%0D%0A');
    assert.equal(textField('-'), '%2D');
    assert.equal(textField(''), '-');
    assert.equal(textField(undefined), '-');
  });
});

describe('AccessLog file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-access-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the W3C header, STARTUP, the lines and SHUTDOWN', async () => {
    const now = Date.UTC(2024, 4, 1, 11, 0, 0);
    const log = new AccessLog({ folder: dir, software: 'Rivulet 9.9.9', now: () => now });
    log.startup();
    log.record(record(), ctx);
    log.shutdown();
    await log.file.close();
    const lines = readFileSync(join(dir, 'StreamingServer.log'), 'utf8').split('\n');
    assert.match(lines[0], /^#Log File Created On: \d\d\/\d\d\/2024 \d\d:\d\d:\d\d$/);
    assert.deepEqual(lines.slice(1, 6), accessHeader('Rivulet 9.9.9', now, true).trimEnd().split('\n'));
    assert.deepEqual(lines.slice(1, 6), [
      '#Software: Rivulet 9.9.9',
      '#Version: 1.0',
      '#Date: 2024-05-01 11:00:00',
      '#Remark: all time values are in GMT.',
      `#Fields: ${ACCESS_FIELDS.join(' ')}`,
    ]);
    assert.equal(lines[6], '#Remark: Streaming beginning STARTUP 2024-05-01 11:00:00');
    assert.equal(lines[7], formatAccessLine(record(), ctx).trimEnd());
    assert.equal(lines[8], '#Remark: Streaming beginning SHUTDOWN 2024-05-01 11:00:00');
  });
});
