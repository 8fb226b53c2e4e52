import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createdOnLine, formatDateTime, parseCreatedOn, rollDueAt, rollStamp } from './log-time.js';

describe('log file dates', () => {
  const at = new Date(2024, 2, 5, 7, 8, 9).getTime(); // local 2024-03-05 07:08:09

  it('formats YYYY-MM-DD HH:MM:SS in local time or GMT', () => {
    assert.equal(formatDateTime(at, false), '2024-03-05 07:08:09');
    assert.equal(formatDateTime(Date.UTC(1999, 11, 31, 23, 59, 58), true), '1999-12-31 23:59:58');
  });

  it('writes and reads back the creation line in local time', () => {
    assert.equal(createdOnLine(at), '#Log File Created On: 03/05/2024 07:08:09\n');
    assert.equal(parseCreatedOn(createdOnLine(at)), at);
    assert.equal(
      parseCreatedOn('#Log File Created On: 3/5/2024 7:08:09 more'),
      at,
      "DSS's sscanf takes unpadded numbers",
    );
    assert.equal(parseCreatedOn('#Software: Rivulet'), undefined);
    assert.equal(parseCreatedOn('#Log File Created On: 13/45/2024 00:00:00'), undefined);
  });

  it('is due for rolling N days after midnight of the creation day', () => {
    assert.equal(rollDueAt(at, 1), new Date(2024, 2, 6).getTime());
    assert.equal(rollDueAt(at, 7), new Date(2024, 2, 12).getTime());
  });

  it('stamps rolled names yymmdd', () => {
    assert.equal(rollStamp(at), '240305');
  });
});
