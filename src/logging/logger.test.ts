import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, formatTextLine, silentLogger, type LoggerOptions } from './logger.js';

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
