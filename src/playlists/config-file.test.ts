import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { broadcastTimeMs, NTP_UNIX_OFFSET, parsePlaylistConfig } from './config-file.js';
import { formatIssue } from './types.js';

const FILE = '/srv/playlists/jazz/jazz.config';

describe('DSS playlist .config', () => {
  it('reads a config as the QTSS admin wrote it, and names the keys it ignores once', () => {
    const text = [
      'playlist_file "/srv/playlists/jazz/jazz.playlist"',
      'play_mode weighted_random',
      'recent_movies_list_size 3',
      'destination_ip_address 127.0.0.1',
      'destination_base_port 0',
      'sdp_reference_movie "/srv/movies/My Jazz.mov"',
      'logging enabled',
      'sdp_file jazz.sdp',
      'destination_sdp_file jazz.sdp',
      'broadcast_SDP_is_dynamic enabled',
      '#broadcast_name "Jazz all day"',
      '',
    ].join('\n');
    const { config, warnings, errors } = parsePlaylistConfig(text, FILE);
    assert.deepEqual(errors, []);
    assert.deepEqual(config, {
      file: FILE,
      playlistFile: '/srv/playlists/jazz/jazz.playlist',
      playMode: 'weighted_random',
      recent: 3,
      logging: true,
      maxUpcoming: 7,
      sdpReferenceMovie: '/srv/movies/My Jazz.mov',
      destinationSdpFile: 'jazz.sdp',
      unused: {
        destination_ip_address: '127.0.0.1',
        destination_base_port: '0',
        sdp_file: 'jazz.sdp',
        broadcast_SDP_is_dynamic: 'enabled',
      },
    });
    assert.deepEqual(warnings.map(formatIssue), [
      `${FILE}: DSS keywords Rivulet has no use for, ignored: destination_ip_address (line 4), destination_base_port (line 5), sdp_file (line 8), broadcast_SDP_is_dynamic (line 10)`,
    ]);
  });

  it('has DSS defaults, resolves paths against its folder, and takes the last of a repeated key', () => {
    const { config, warnings, errors } = parsePlaylistConfig(
      'log_file logs/j.log\nsdp_reference_movie ref.mov\nbroadcast_name "Jazz ""live"""\nlogging enabled\nlogging disabled\nmax_upcoming_list_size 3 extra\n',
      FILE,
    );
    assert.deepEqual([errors, warnings], [[], []]);
    assert.equal(config.playMode, 'sequential_looped');
    assert.equal(config.recent, 0);
    assert.equal(config.logging, false);
    assert.equal(config.logFile, '/srv/playlists/jazz/logs/j.log');
    assert.equal(config.sdpReferenceMovie, '/srv/playlists/jazz/ref.mov');
    assert.equal(config.broadcastName, 'Jazz "live"');
    assert.equal(config.maxUpcoming, 3);
    assert.equal(config.start, undefined);
    assert.equal(config.end, undefined);
  });

  it('reads broadcast times as NTP seconds, 0 as unset, and *N as N seconds after the start', () => {
    const ntp = NTP_UNIX_OFFSET + 1_700_000_000;
    const { config, errors } = parsePlaylistConfig(`broadcast_start_time ${ntp}\nbroadcast_end_time *3600\n`, FILE);
    assert.deepEqual(errors, []);
    assert.deepEqual(config.start, { kind: 'at', ntpSeconds: ntp });
    assert.deepEqual(config.end, { kind: 'after', seconds: 3600 });
    assert.equal(broadcastTimeMs(config.start, 0), 1_700_000_000_000);
    assert.equal(broadcastTimeMs(config.end, 5_000), 3_605_000);
    const zero = parsePlaylistConfig('broadcast_start_time 0\nbroadcast_end_time 0\n', FILE);
    assert.deepEqual([zero.config.start, zero.config.end, zero.errors], [undefined, undefined, []]);
  });

  it('reports every bad value with its line, and unknown keys as warnings', () => {
    const { errors, warnings } = parsePlaylistConfig(
      [
        'play_mode shuffle',
        'recent_movies_list_size -1',
        'logging yes',
        'broadcast_start_time tomorrow',
        'broadcast_end_time 12345',
        'broadcast_start_time *soon',
        'destination_sdp_file',
        'sdp_reference_movie "open',
        'play_speed 2',
      ].join('\n'),
      FILE,
    );
    assert.deepEqual(
      errors.map((e) => `${e.line}: ${e.message}`),
      [
        "1: play_mode 'shuffle' is not one of sequential, sequential_looped, weighted_random",
        "2: recent_movies_list_size '-1' is not a whole number of items (0 or more)",
        "3: logging 'yes' is neither enabled nor disabled",
        "4: broadcast_start_time 'tomorrow' is neither NTP seconds (since 1900) nor *N (N seconds after the start)",
        `5: broadcast_end_time 12345 is not an NTP time: NTP seconds count from 1900, so any date after 1970 is above ${NTP_UNIX_OFFSET}`,
        "6: broadcast_start_time '*soon': after * comes a number of seconds",
        '7: destination_sdp_file has no value',
        '8: a quoted name has no closing quote (")',
      ],
    );
    assert.deepEqual(warnings.map((w) => `${w.line}: ${w.message}`), ["9: unknown keyword 'play_speed' ignored"]);
  });
});
