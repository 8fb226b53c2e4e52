#!/usr/bin/env node
// Runs the test suites with node:test through tsx. Node 20's --test takes no globs, so the files
// are found here. Unit tests run in parallel; end-to-end tests (real ffmpeg/GStreamer clients
// against a real server) run two at a time so a 2-core machine is not oversubscribed.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const which = process.argv[2] ?? 'all';
const filter = process.argv[3];
const suites = [];
// The benchmarks' own helpers (bench/) are unit-tested with the source.
if (which === 'all' || which === 'unit') suites.push({ files: [...find('src'), ...find('bench')], concurrency: 2 });
if (which === 'all' || which === 'e2e') suites.push({ files: find('test'), concurrency: 2 });

// One run of node --test for everything, so the closing summary counts every test.
const files = suites.flatMap((s) => s.files).filter((f) => !filter || f.includes(filter));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
