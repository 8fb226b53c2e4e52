// Layering rules for Rivulet, checked in CI by `npm run lint:layers` (part of `npm run lint`).
// ARCHITECTURE.md explains the layers; change both together.

// The protocol adapters. A new protocol folder is added here once, and every rule below that
// keeps lower layers away from protocols picks it up.
const PROTOCOL_FOLDERS = ['src/rtsp', 'src/http', 'src/admin', 'src/radio'];

// Layers below the protocols: the core (paths, streams and their fan-out, Source and Reader),
// protocol-neutral sources and readers, media, codecs, file player, stream types, wire formats,
// transport, auth, the neutral network helpers (net), playlists and the metrics (which read the
// core's state and events whatever protocol fed them). Any protocol may use them, so they import
// none.
const LOWER_LAYERS = [
  'src/core',
  'src/media',
  'src/codecs',
  'src/vod',
  'src/sources',
  'src/readers',
  'src/stream',
  'src/rtp',
  'src/rtcp',
  'src/sdp',
  'src/transport',
  'src/auth',
  'src/net',
  'src/playlists',
  'src/metrics',
];

// Unit tests and benchmarks may reach across layers to build fixtures or compare outputs;
// the rules are about what production code depends on.
const TESTS_AND_BENCHES = '(\\.test\\.ts$|^test/|^bench/|/test-helpers/)';

// dependency-cruiser 17 parses TypeScript < 7 only; with a newer one it finds no .ts module and
// passes silently ("0 modules cruised"). Fail loudly instead.
const tsMajor = Number(require('typescript/package.json').version.split('.')[0]);
if (tsMajor >= 7) {
  throw new Error(`dependency-cruiser 17 cannot parse TypeScript ${tsMajor}: upgrade it before TypeScript`);
}

const folders = (list) => `^(${list.map((f) => f.replace(/\//g, '\\/')).join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'Import cycles make load order fragile (ES modules can see half-initialised bindings) and ' +
        'mean two modules are one in disguise: move the shared types into their own small file. ' +
        'Type-only imports count too (tsPreCompilationDeps), since they still tie the files together.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lower-layers-import-no-protocol',
      comment:
        'The core, sources, readers, media, codecs, the file player, stream types, wire formats, transport, auth ' +
        'and net are protocol-neutral so RTSP, the HTTP entry and later HLS/ICY can share them. A ' +
        'lower layer reports failures with its own typed errors (e.g. PathError) and the protocol ' +
        'adapter maps them to a status.',
      severity: 'error',
      from: { path: folders(LOWER_LAYERS), pathNot: TESTS_AND_BENCHES },
      to: { path: folders(PROTOCOL_FOLDERS) },
    },
    {
      name: 'auth-imports-no-core',
      comment:
        'Access control is consulted by every protocol and by live publishing; it must not depend ' +
        'on the core it guards (streams, their fan-out, sources and readers; shared helpers such as ' +
        'address matching live in src/net): per-path settings (a path\'s publishAllow) are handed ' +
        'to it by the caller.',
      severity: 'error',
      from: { path: '^src/auth/', pathNot: TESTS_AND_BENCHES },
      to: { path: '^src/(core|sources|readers)/' },
    },
    {
      name: 'http-imports-no-rtsp',
      comment:
        'The HTTP router serves the shared ports for every protocol (the RTSP tunnel and reference ' +
        'movies today, ICY, HLS and the admin API later): RTSP adds its routes to it from its own ' +
        'side or from the composition root, so the router never depends on RTSP.',
      severity: 'error',
      from: { path: '^src/http/', pathNot: TESTS_AND_BENCHES },
      to: { path: '^src/rtsp/' },
    },
    {
      name: 'radio-and-rtsp-apart',
      comment:
        'Internet radio (src/radio) and RTSP are two protocols over one core: a mount is a path that ' +
        'RTSP serves like any other stream, with no code of either in the other. What they share ' +
        '(the HTTP router, the core, codecs, readers) sits below both.',
      severity: 'error',
      from: { path: '^src/(radio|rtsp)/', pathNot: TESTS_AND_BENCHES },
      to: { path: '^src/(radio|rtsp)/', pathNot: '^src/$1/' },
    },
    {
      name: 'relays-only-from-the-top',
      comment:
        'Relays (src/relays: pull sources, push and forward destinations, DSS relayconfig.xml) join ' +
        'the core and the RTSP client, so they sit above both: only the composition root (server), ' +
        'the command line and the relays themselves import them. The core takes their starters ' +
        'from the table it is handed, and RTSP serves a relayed path as any other live stream.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(server|cli|relays)/', TESTS_AND_BENCHES] },
      to: { path: '^src/relays/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Keep type-only imports in the graph: a cycle through types is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.node'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
