import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ErrorLog, errorLevelOf, errorMessage, formatErrorLine, pinoLevelFor } from './error-log.js';
import { formatDateTime } from './log-time.js';
import { attachLogTee, createLogger } from './logger.js';

const scratch = mkdtempSync(join(tmpdir(), 'rivulet-errorlog-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const at = new Date(2024, 4, 1, 12, 0, 3).getTime();
const stamp = formatDateTime(at, false);

function errorLog(opts: { verbosity?: number } = {}) {
  const folder = join(scratch, `e${++n}`);
  const log = new ErrorLog({ folder, now: () => at, ...opts });
  const text = async () => {
    await log.file.close();
    return readFileSync(join(folder, 'Error.log'), 'utf8').split('\n').slice(1, -1);
  };
  return { log, folder, text };
}

describe('Error.log lines', () => {
  it('are `YYYY-MM-DD HH:MM:SS: LEVEL: message` in local time', () => {
    assert.equal(formatErrorLine(at, 1, 'disk on fire'), `${stamp}: WARNING: disk on fire\n`);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((l) => formatErrorLine(at, l, 'm').split(': ')[1]),
      ['FATAL', 'WARNING', 'INFO', 'ASSERT', 'DEBUG'],
    );
  });

  it('map pino levels: fatal FATAL, error and warn WARNING, info INFO, debug and trace DEBUG', () => {
    assert.deepEqual([60, 50, 40, 30, 20, 10].map(errorLevelOf), [0, 1, 1, 2, 4, 4]);
    assert.deepEqual([0, 1, 2, 3, 4].map(pinoLevelFor), ['fatal', 'warn', 'info', 'info', 'debug']);
  });

  it('carry the component and the fields, on one line, cut when long', () => {
    assert.equal(
      errorMessage({
        level: 40,
        time: at,
        msg: 'bad request',
        fields: { status: 400, err: new Error('x\ny') },
        component: 'rtsp',
      }),
      '[rtsp] bad request status=400 err="x\\ny"',
    );
    assert.equal(errorMessage({ level: 30, time: at, msg: 'two\nlines', fields: {} }), 'two lines');
    assert.equal(errorMessage({ level: 30, time: at, msg: 'x'.repeat(5000), fields: {} }).length, 1000);
  });
});

describe('ErrorLog', () => {
  it('writes STARTUP, what its verbosity lets through, collapsed repeats and SHUTDOWN', async () => {
    const { log, text } = errorLog({ verbosity: 2 });
    log.startup();
    log.log(2, 'hello');
    log.log(4, 'debug is above verbosity 2');
    log.log(1, 'again');
    log.log(1, 'again');
    log.log(2, 'again'); // the message is what counts, as DSS compared it
    log.log(0, 'other');
    log.log(0, 'other');
    log.shutdown();
    assert.deepEqual(await text(), [
      `# Streaming STARTUP ${stamp}`,
      `${stamp}: INFO: hello`,
      `${stamp}: WARNING: again`,
      `${stamp}: --last message repeated 2 times`,
      `${stamp}: FATAL: other`,
      `${stamp}: --last message repeated 1 times`,
      `# Streaming SHUTDOWN ${stamp}`,
    ]);
  });

  it('keeps the newest lines for the admin, beginning with the tail of the file it found', async () => {
    const folder = join(scratch, `e${++n}`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'Error.log'), '#Log File Created On: 05/01/2024 11:00:00\nold 1\nold 2\n');
    const log = new ErrorLog({ folder, now: () => at, keepLines: 3 });
    log.log(1, 'new');
    assert.deepEqual(log.lines(10), ['old 1', 'old 2', `${stamp}: WARNING: new`]);
    assert.deepEqual(log.lines(1), [`${stamp}: WARNING: new`]);
    for (let i = 0; i < 10; i++) log.log(1, `m${i}`);
    assert.deepEqual(
      log.lines(100),
      [7, 8, 9].map((i) => `${stamp}: WARNING: m${i}`),
    );
    await log.file.close();
  });

  it('takes a new verbosity at once and writes nothing when off', async () => {
    const { log, text } = errorLog({ verbosity: 0 });
    log.log(1, 'not yet');
    log.set({ folder: log.file.path.replace(/\/Error\.log$/, ''), verbosity: 4 });
    log.log(4, 'now debug');
    log.set({ folder: log.file.path.replace(/\/Error\.log$/, ''), enabled: false });
    log.log(0, 'off');
    assert.deepEqual(await text(), [`${stamp}: DEBUG: now debug`]);
  });

  it("receives the application log through the logger's tee, at the levels it wants, while stdout keeps its own", async () => {
    const out: string[] = [];
    const app = createLogger({ level: 'warn', teeLevel: 'info', write: (l) => out.push(l) });
    const { log, text } = errorLog({ verbosity: 2 });
    const detach = attachLogTee(app, (e) => log.entry(e));
    app.child({ component: 'rtsp' }).info({ session: 'abc' }, 'session created');
    app.warn('careful');
    app.debug('not for anyone');
    detach();
    app.warn('after detach');
    const lines = await text();
    assert.deepEqual(
      lines.map((l) => l.slice(21)),
      ['INFO: [rtsp] session created session=abc', 'WARNING: careful'],
    );
    assert.ok(
      lines.every((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: /.test(l)),
      'dated when logged',
    );
    assert.equal(out.length, 2, 'standard output still shows warn and above only');
    assert.match(out[0], /WARN {2}careful/);
  });
});
