/** `rivulet import-dss STREAMINGSERVER_XML [--out FILE]`: writes the Rivulet config equivalent to
 * a DSS streamingserver.xml (the mapping: config/dss-import.ts) and reports, one line per pref,
 * what it mapped to which key and what it could not and why, then what the config brings along:
 * the relays of the relay config it names (read as the server will read them), the playlists of
 * the PlaylistBroadcaster's folder, the qtaccess files below the movie folder, and the files it
 * names that are not there. The YAML goes to --out (never over an existing file without --force;
 * a file it creates is mode 600, as it may hold relay passwords) or to standard output; the report to standard error. Exit status: 0 written, 1 the XML cannot
 * be read or used or the output cannot be written, 2 a usage error. */
import { existsSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DssXmlError, formatDssReport, importDssXml, type DssFacts, type DssImportOptions, type DssRelayFacts } from '../config/dss-import.js';
import { redactUrl } from '../config/index.js';
import { scanPlaylistFolder } from '../playlists/index.js';
import { readDssFile } from '../playlists/dss-text.js';
import { formatIssue } from '../playlists/types.js';
import { DssConfigError, readDssRelayConfig } from '../relays/index.js';

export const IMPORT_DSS_USAGE = `Usage: rivulet import-dss STREAMINGSERVER_XML [--out FILE] [--force]
                          [--playlists DIR | --no-playlists]

Writes a Rivulet config equivalent to a Darwin Streaming Server streamingserver.xml (DSS 6.0.3
and earlier), and lists on standard error every pref it mapped (to which key) and every one it
could not (and why), then the relays of the relay config it names, the playlists that will
broadcast, the qtaccess files that keep protecting their folders, and the files it names that
are missing. DSS's paths are kept as they are: the config uses your real files.

  --out FILE      write the config to FILE (default: standard output); a new FILE is
                  readable by you only (mode 600): it may hold relay passwords
  --force         replace FILE if it exists
  --playlists DIR the PlaylistBroadcaster's playlists folder (the DSS web admin's plroot)
                  (default: a "playlists" folder beside the XML, else /var/streaming/playlists,
                  when there is one)
  --no-playlists  set no playlists folder
  -h, --help      show this help

Exit status: 0 written, 1 the XML cannot be read or used or FILE cannot be written, 2 a usage
error.
`;

/** DSS's PlaylistBroadcaster folder on Linux (the web admin's plroot). */
const DSS_PLAYLISTS = '/var/streaming/playlists';
/** Names looked at below the movie folder for access files; a bigger tree is cut short. */
const MAX_WALK_NAMES = 50_000;
/** Folder depth looked at below the movie folder. */
const MAX_WALK_DEPTH = 32;

class UsageError extends Error {}

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The access files below `root` (symbolic links not followed), at most MAX_WALK_NAMES names
 * looked at. */
async function accessFiles(root: string, name: string): Promise<{ files: string[]; truncated: boolean }> {
  const files: string[] = [];
  const queue: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
  let seen = 0;
  while (queue.length > 0 && seen <= MAX_WALK_NAMES) {
    const { dir, depth } = queue.shift()!;
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      continue;
    }
    // Leaving the loop closes the folder.
    for await (const e of handle) {
      if (++seen > MAX_WALK_NAMES) break;
      if (e.isFile() && e.name === name) files.push(join(dir, e.name));
      else if (e.isDirectory() && depth < MAX_WALK_DEPTH) queue.push({ dir: join(dir, e.name), depth: depth + 1 });
    }
  }
  return { files: files.sort(), truncated: seen > MAX_WALK_NAMES };
}

/** The relay config as the server will read it, at the ports the config listens on. */
async function relayFacts(file: string, rtspPorts: number[]): Promise<DssRelayFacts> {
  if (!existsSync(file)) return { missing: true };
  try {
    const dss = await readDssRelayConfig(file, { rtspPorts });
    return {
      paths: dss.paths.map((p) => ({
        name: p.name,
        relay: p.relay,
        ...(p.entry.source ? { source: redactUrl(p.entry.source) } : {}),
        push: p.entry.push?.length ?? 0,
        forward: p.entry.forward?.length ?? 0,
      })),
      issues: dss.issues.map((i) => ({ line: i.line, relay: i.relay, level: i.level, reason: i.reason })),
    };
  } catch (e) {
    if (e instanceof DssConfigError) return { error: e.message };
    throw e;
  }
}

/** The playlists folder: --playlists, else one beside the XML, else DSS's own, when it exists. */
function playlistsFolder(flag: string | undefined, none: boolean | undefined, xml: string): string | undefined {
  if (none) return undefined;
  if (flag !== undefined) {
    const dir = resolve(flag);
    if (!isDir(dir)) throw new UsageError(`--playlists ${flag}: no such folder`);
    return dir;
  }
  return [join(dirname(xml), 'playlists'), DSS_PLAYLISTS].find(isDir);
}

export async function importDss(argv: string[]): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        force: { type: 'boolean' },
        playlists: { type: 'string' },
        'no-playlists': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`rivulet import-dss: ${(e as Error).message}\n\n${IMPORT_DSS_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(IMPORT_DSS_USAGE);
    return 0;
  }
  const usage = (why: string) => {
    process.stderr.write(`rivulet import-dss: ${why}\n\n${IMPORT_DSS_USAGE}`);
    return 2;
  };
  if (positionals.length !== 1) return usage(positionals.length === 0 ? 'which streamingserver.xml? give its path' : `one streamingserver.xml at a time, not ${positionals.length}`);
  if (values.playlists !== undefined && values['no-playlists']) return usage('--playlists and --no-playlists together');
  const xml = resolve(positionals[0]);
  const out = values.out === undefined ? undefined : resolve(values.out);
  if (out !== undefined && existsSync(out) && !values.force) {
    process.stderr.write(`rivulet import-dss: ${out} exists: not replaced (--force replaces it)\n`);
    return 1;
  }
  let folder: string | undefined;
  try {
    folder = playlistsFolder(values.playlists, values['no-playlists'], xml);
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message);
    throw e;
  }

  let text: string;
  try {
    text = await readDssFile(xml);
  } catch (e) {
    process.stderr.write(`rivulet import-dss: ${(e as Error).message}\n`);
    return 1;
  }
  const opts: DssImportOptions = { source: xml, baseDir: dirname(xml), ...(folder ? { playlistsFolder: folder } : {}) };
  let plan;
  try {
    plan = importDssXml(text, opts);
  } catch (e) {
    if (e instanceof DssXmlError) {
      process.stderr.write(`rivulet import-dss: ${xml} ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  // What lies on disk: only adds report lines, and leaves out a relay config that is not there.
  const { files } = plan;
  const facts: DssFacts = { missing: [files.movieFolder, files.usersFile, files.groupsFile].filter((f): f is string => f !== undefined && !existsSync(f)) };
  if (files.relayConfig) facts.relays = await relayFacts(files.relayConfig, files.rtspPorts);
  if (folder) {
    const mediaRoot = files.movieFolder && isDir(files.movieFolder) ? realpathSync(files.movieFolder) : undefined;
    const scan = await scanPlaylistFolder(folder, mediaRoot ? { mediaRoot } : {});
    facts.playlists = { playlists: scan.playlists.map((p) => ({ key: p.key, playlistFile: p.playlistFile })), problems: scan.problems.map(formatIssue) };
  }
  if (files.movieFolder && isDir(files.movieFolder)) {
    const found = await accessFiles(files.movieFolder, files.accessFileName);
    facts.accessFiles = found.files;
    facts.accessFilesTruncated = found.truncated;
  }
  const result = importDssXml(text, { ...opts, facts });

  if (out === undefined) process.stdout.write(result.yaml);
  else {
    try {
      // 'wx': a file that appeared since the check above is not replaced either. A file replaced
      // keeps the mode its owner gave it.
      writeFileSync(out, result.yaml, { flag: values.force ? 'w' : 'wx', mode: 0o600 });
    } catch (e) {
      process.stderr.write(`rivulet import-dss: cannot write ${out}: ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists (--force replaces it)' : (e as Error).message}\n`);
      return 1;
    }
  }
  process.stderr.write(`rivulet import-dss: ${xml}\n${formatDssReport(result)}`);
  process.stderr.write(
    `${result.mapped.length} prefs mapped, ${result.unmapped.length} not mapped; ${out === undefined ? 'config written to standard output' : `config written to ${out}`}. Start it with: rivulet serve --config ${out ?? 'FILE'}\n`,
  );
  return 0;
}
