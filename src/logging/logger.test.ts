import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attachLogTee,
  createLogger,
  formatTextLine,
  setTeeLevel,
  silentLogger,
  type LogEntry,
  type LoggerOptions,
} from './logger.js';

/** A logger writing into an array, one entry per record. */
function capture(opts: Omit<LoggerOptions, 'write'> = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...opts, write: (l) => lines.push(l) });
  return { log, lines };
}

const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

describe('createLogger text format', () => {
  it('writes `<ISO time> LEVEL [component] message key=value` lines', () => {
    const { log, lines } = capture();
    const before = Date.now();
    log.child({ component: 'rtsp' }).info({ session: 'abc123', port: 8554 }, 'session created');
    const after = Date.now();
    assert.equal(lines.length, 1);
    const line = lines[0];
    assert.match(line, new RegExp(`^${ISO} INFO  \\[rtsp\\] session created session=abc123 port=8554\\n$`));
    const time = Date.parse(line.slice(0, 24));
    assert.ok(time >= before - 1 && time <= after + 1, 'the time is the time of the call');
  });

  it('pads the level to five characters so messages line up', () => {
    const { log, lines } = capture({ level: 'trace' });
    log.trace('a');
    log.debug('b');
    log.info('c');
    log.warn('d');
    log.error('e');
    log.fatal('f');
    assert.deepEqual(
      lines.map((l) => l.slice(25)),
      ['TRACE a\n', 'DEBUG b\n', 'INFO  c\n', 'WARN  d\n', 'ERROR e\n', 'FATAL f\n'],
    );
  });

  it('leaves out the brackets without a component and never prints pid or hostname', () => {
    const { log, lines } = capture();
    log.info('plain');
    assert.match(lines[0], new RegExp(`^${ISO} INFO  plain\\n$`));
    assert.doesNotMatch(lines[0], /pid=|hostname=/);
  });

  it('quotes values with spaces, quotes or = and empty strings; prints objects as JSON', () => {
    const { log, lines } = capture();
    log.info(
      { a: 'two words', b: 'x=y', c: '', d: 'say "hi"', e: { x: 1 }, f: [1, 2], g: true, h: null },
      'm',
    );
    assert.equal(
      lines[0].slice(25),
      'INFO  m a="two words" b="x=y" c="" d="say \\"hi\\"" e={"x":1} f=[1,2] g=true h=null\n',
    );
  });

  it('prints an error as its message only', () => {
    const { log, lines } = capture();
    log.warn({ err: new Error('disk on fire') }, 'read failed');
    assert.equal(lines[0].slice(25), 'WARN  read failed err="disk on fire"\n');
  });

  it('applies printf-style message arguments', () => {
    const { log, lines } = capture();
    log.info('listening on %s:%d', 'host', 554);
    assert.equal(lines[0].slice(25), 'INFO  listening on host:554\n');
  });
});

describe('createLogger json format', () => {
  it('writes one pino JSON record per line with level, time, component, fields and msg', () => {
    const { log, lines } = capture({ format: 'json' });
    const before = Date.now();
    log.child({ component: 'vod' }).warn({ session: 's1', bytes: 10 }, 'slow reader');
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n'));
    const rec = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(rec.level, 40);
    assert.equal(rec.msg, 'slow reader');
    assert.equal(rec.component, 'vod');
    assert.equal(rec.session, 's1');
    assert.equal(rec.bytes, 10);
    assert.equal(typeof rec.time, 'number');
    assert.ok((rec.time as number) >= before - 1);
    assert.equal('pid' in rec, false);
    assert.equal('hostname' in rec, false);
  });
});

describe('createLogger levels', () => {
  it('defaults to info: debug and trace are dropped', () => {
    const { log, lines } = capture();
    log.trace('t');
    log.debug('d');
    log.info('i');
    assert.equal(lines.length, 1);
    assert.match(lines[0], / INFO {2}i\n$/);
  });

  it('drops records below the configured level, in child loggers too', () => {
    const { log, lines } = capture({ level: 'warn' });
    const child = log.child({ component: 'x' });
    log.info('no');
    child.info('no');
    child.warn('yes');
    log.error('yes too');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /WARN {2}\[x\] yes/);
    assert.match(lines[1], /ERROR yes too/);
  });

  it('silent drops everything', () => {
    const { log, lines } = capture({ level: 'silent' });
    log.fatal('nothing');
    assert.equal(lines.length, 0);
    assert.equal(silentLogger().isLevelEnabled('fatal'), false);
  });
});

describe('formatTextLine', () => {
  it('formats a pino record and passes anything else through unchanged', () => {
    const rec = JSON.stringify({
      level: 50,
      time: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
      component: 'c',
      msg: 'm',
      k: 'v',
    });
    assert.equal(formatTextLine(rec), '2024-01-02T03:04:05.006Z ERROR [c] m k=v\n');
    assert.equal(formatTextLine('not json'), 'not json');
  });
});

describe('attachLogTee', () => {
  it('hands every record of the logger and its children to the sink, parsed, in either format', () => {
    for (const format of ['text', 'json'] as const) {
      const { log, lines } = capture({ format });
      const seen: LogEntry[] = [];
      const detach = attachLogTee(log, (e) => seen.push(e));
      const before = Date.now();
      log.child({ component: 'rtsp' }).warn({ session: 's1' }, 'slow %s', 'reader');
      log.info('plain');
      detach();
      log.info('not seen');
      assert.equal(lines.length, 3, 'standard output unchanged');
      assert.equal(seen.length, 2);
      assert.deepEqual(
        { ...seen[0], time: 0 },
        { level: 40, time: 0, msg: 'slow reader', fields: { session: 's1' }, component: 'rtsp' },
      );
      assert.ok(seen[0].time >= before);
      assert.deepEqual(
        { ...seen[1], time: 0 },
        { level: 30, time: 0, msg: 'plain', fields: {}, component: undefined },
      );
    }
  });

  it('with teeLevel below level, runs lower for the tee and still writes only level and up', () => {
    const { log, lines } = capture({ level: 'warn', teeLevel: 'debug' });
    const seen: number[] = [];
    attachLogTee(log, (e) => seen.push(e.level));
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.trace('t');
    assert.deepEqual(seen, [20, 30, 40]);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /WARN {2}w/);
  });

  it('a level set at run time (config reload) changes what is written out, and the tee keeps its levels', () => {
    const { log, lines } = capture({ level: 'info', teeLevel: 'info' });
    const seen: number[] = [];
    attachLogTee(log, (e) => seen.push(e.level));
    log.level = 'warn';
    log.info('tee only');
    log.warn('both');
    log.level = 'debug';
    log.debug('both again');
    assert.deepEqual(seen, [30, 40, 20]);
    assert.deepEqual(
      lines.map((l) => l.slice(25).trimEnd()),
      ['WARN  both', 'DEBUG both again'],
    );
  });

  it('setTeeLevel lowers or raises what the tee gets at run time, children included, output unchanged', () => {
    const { log, lines } = capture({ level: 'info', teeLevel: 'info' });
    const child = log.child({ component: 'x' });
    const seen: number[] = [];
    attachLogTee(log, (e) => seen.push(e.level));
    child.debug('before');
    setTeeLevel(log, 'debug');
    child.debug('now');
    setTeeLevel(log, undefined);
    child.debug('gone');
    child.info('info');
    assert.deepEqual(seen, [20, 30]);
    assert.deepEqual(
      lines.map((l) => l.slice(25).trimEnd()),
      ['INFO  [x] info'],
    );
  });

  it('a sink that throws reaches neither the caller nor the output', () => {
    const { log, lines } = capture();
    attachLogTee(log, () => {
      throw new Error('sink broke');
    });
    log.info('still fine');
    assert.equal(lines.length, 1);
  });

  it('attaches nothing to a logger it did not make', () => {
    const detach = attachLogTee(silentLogger(), () => assert.fail('never'));
    silentLogger().fatal('x');
    detach();
  });
});
