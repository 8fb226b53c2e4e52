import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NTP_UNIX_OFFSET } from './config-file.js';
import { notActiveMessage, resolveSchedule, sameScheduleTime, scheduleState, scheduleTimeMs } from './schedule.js';

describe('playlist schedule', () => {
  const configured = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('reads ISO 8601 with a zone, *N from the configuration, and DSS NTP seconds', () => {
    assert.equal(scheduleTimeMs('2026-12-24T20:00:00+01:00', configured), Date.UTC(2026, 11, 24, 19));
    assert.equal(scheduleTimeMs('*90', configured), configured + 90_000);
    assert.equal(scheduleTimeMs({ kind: 'after', seconds: 3 }, configured), configured + 3000);
    assert.equal(scheduleTimeMs({ kind: 'at', ntpSeconds: NTP_UNIX_OFFSET + 1_700_000_000 }, configured), 1_700_000_000_000);
    assert.throws(() => scheduleTimeMs('tomorrow', configured), /neither an ISO 8601 time nor \*N/);
  });

  it('says whether now is before, inside or after the window, with the time to name', () => {
    const s = resolveSchedule({ start: '*60', end: '*120' }, configured);
    assert.deepEqual(s, { startMs: configured + 60_000, endMs: configured + 120_000 });
    const before = scheduleState(s, configured);
    assert.deepEqual(before, { state: 'before', at: configured + 60_000 });
    assert.deepEqual(scheduleState(s, configured + 60_000), { state: 'on', endMs: configured + 120_000 });
    const after = scheduleState(s, configured + 120_000);
    assert.deepEqual(after, { state: 'after', at: configured + 120_000 });
    assert.deepEqual(scheduleState({}, configured), { state: 'on', endMs: undefined }, 'no schedule: always on');
    assert.equal(notActiveMessage(before), 'broadcast not active: starts at 2026-01-01T12:01:00.000Z');
    assert.equal(notActiveMessage(after), 'broadcast not active: ended at 2026-01-01T12:02:00.000Z');
  });

  it('tells a changed time from the same one', () => {
    assert.ok(sameScheduleTime('*3', '*3'));
    assert.ok(sameScheduleTime({ kind: 'after', seconds: 3 }, { kind: 'after', seconds: 3 }));
    assert.ok(!sameScheduleTime('*3', '*4'));
    assert.ok(!sameScheduleTime(undefined, '*4'));
  });
});
