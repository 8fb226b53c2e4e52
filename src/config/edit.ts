/** Changing config keys as an operator would by hand: `editConfigText` sets dotted keys
 * (`limits.maxConnections`, `paths.tv.playlist`) in the YAML text with the `yaml` Document API,
 * so comments, key order and quoting stay as written; the result is checked with the schema
 * before anyone writes it, and `writeFileAtomic` replaces the file whole (a reader never sees
 * half a file), keeping its mode. `applyToTree` does the same to a plain object (a running
 * config when there is no file). `null` removes a key. */
import { chmodSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isCollection, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import { ConfigError, configErrorFrom } from './load.js';
import { configSchema, pathSettingsSchema } from './schema.js';

/** Changes keyed by dotted key; `null` removes the key (back to its default). */
export type ConfigChanges = Record<string, unknown>;

/** Most keys one edit may change (the admin's Settings sends a handful). */
export const MAX_CHANGES = 200;

const PATH_KEYS = new Set(Object.keys(pathSettingsSchema.shape));

/** Key names that reach an object's prototype when a tree is walked or assigned by name
 * (`__proto__.x` would set `x` on every object of the process): refused wherever they appear. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A ConfigError when a segment of `key` is one of UNSAFE_KEYS. */
function refuseUnsafeSegments(key: string, parts: readonly string[]): void {
  const bad = parts.find((p) => UNSAFE_KEYS.has(p));
  if (bad !== undefined) throw new ConfigError(`'${key}' is not a config key ('${bad}' may not name a key)`, key);
}

/** A dotted key as the segments of its place in the config. A path name may hold dots
 * (`paths.cam.1.graceTime`, `paths.~^live/.*$.publishAllow`): below `paths` the name runs up to
 * the first segment that is a path setting, or to the end (`paths.cam.1`: the whole entry). */
export function configKeyPath(key: string): string[] {
  const parts = key.split('.');
  refuseUnsafeSegments(key, parts);
  if (parts[0] === 'paths' && parts.length > 2) {
    const rest = parts.slice(1);
    const at = rest.findIndex((p, i) => i > 0 && PATH_KEYS.has(p));
    const name = rest.slice(0, at < 0 ? rest.length : at).join('.');
    return ['paths', name, ...(at < 0 ? [] : rest.slice(at))];
  }
  if (parts.some((p) => p === '')) throw new ConfigError(`'${key}' is not a config key (group.key)`, key);
  return parts;
}

/** A ConfigError naming `key` when its value holds an object key of UNSAFE_KEYS at any depth
 * (a JSON body may carry `"__proto__"` as a key of its own). Walked without recursion: the value
 * comes from the network, its depth from whoever sent it. */
function refuseUnsafeValue(key: string, value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    for (const k of Object.keys(v)) {
      if (UNSAFE_KEYS.has(k)) throw new ConfigError(`${key}: '${k}' may not name a key`, key);
      stack.push((v as Record<string, unknown>)[k]);
    }
  }
}

/** The changes checked for shape (a dotted key, a value), each with its place. */
function planned(changes: ConfigChanges): { key: string; path: string[]; value: unknown }[] {
  const entries = Object.entries(changes);
  if (entries.length === 0) throw new ConfigError('no keys to change');
  if (entries.length > MAX_CHANGES) throw new ConfigError(`too many keys at once (${entries.length}; at most ${MAX_CHANGES})`);
  return entries.map(([key, value]) => {
    const path = configKeyPath(key);
    if (path.length < 2) throw new ConfigError(`${key}: name a key of the group (${key}.<key>), not the group`, key);
    if (value === undefined) throw new ConfigError(`${key}: no value (null removes the key)`, key);
    refuseUnsafeValue(key, value);
    return { key, path, value };
  });
}

/** The schema's verdict on the text alone (what the file says, defaults under it): a
 * ConfigError naming the key when it is wrong. `origin` names the file in messages. */
export function checkConfigText(text: string, origin: string): void {
  const doc = parseConfigText(text, origin);
  const r = configSchema.safeParse(doc.toJS() ?? {});
  if (!r.success) throw configErrorFrom(r.error, origin);
}

function parseConfigText(text: string, origin: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const err = doc.errors[0];
  if (err) throw new ConfigError(`${origin} line ${err.linePos?.[0].line ?? '?'}: invalid YAML: ${err.message.split('\n')[0]}`);
  const top = doc.contents;
  if (top !== null && !isMap(top) && !(isScalar(top) && top.value == null)) throw new ConfigError(`${origin}: the top level must be a mapping of groups`);
  return doc;
}

/** `text` with `changes` made, comments and layout kept, checked with the schema (ConfigError
 * naming the key, nothing changed, when the result is wrong). */
export function editConfigText(text: string, changes: ConfigChanges, origin: string): string {
  const doc = parseConfigText(text, origin);
  for (const { key, path, value } of planned(changes)) {
    if (value === null) {
      // Removing what is not there leaves nothing to do.
      if (doc.hasIn(path)) doc.deleteIn(path);
      continue;
    }
    // An empty group (`logs:` with nothing under it) or an empty document gets its mapping.
    for (let i = 0; i < path.length; i++) {
      const at = path.slice(0, i);
      const node = at.length === 0 ? doc.contents : doc.getIn(at, true);
      if (node === null || node === undefined || (isScalar(node) && node.value == null)) {
        if (at.length === 0) doc.contents = doc.createNode({});
        else doc.setIn(at, doc.createNode({}));
      } else if (!isMap(node)) {
        throw new ConfigError(`${key}: ${at.join('.')} holds a value, not keys`, key);
      }
    }
    const old = doc.getIn(path, true);
    if (isScalar(old) && (typeof value !== 'object' || value === null)) {
      // The node itself keeps its comment and its quoting.
      old.value = value;
      continue;
    }
    const node = doc.createNode(value);
    if (isNode(old)) {
      node.comment = old.comment;
      node.commentBefore = old.commentBefore;
      if (isCollection(old) && isCollection(node)) node.flow = old.flow;
    }
    doc.setIn(path, node);
  }
  const next = doc.toString({ flowCollectionPadding: flowPadding(text), lineWidth: 0 });
  checkConfigText(next, origin);
  return next;
}

/** Whether the text mostly writes its flow lists and maps with spaces inside the brackets
 * (`[ a, b ]`), which the whole file is written back with (yaml has one setting for all). */
function flowPadding(text: string): boolean {
  const padded = text.match(/[[{] +[^\s\]}]/g)?.length ?? 0;
  const tight = text.match(/[[{][^\s\]}]/g)?.length ?? 0;
  return padded > tight;
}

/** `tree` (a parsed config or its input) with `changes` made; `null` removes a key. */
export function applyToTree(tree: Record<string, unknown>, changes: ConfigChanges): Record<string, unknown> {
  const out = structuredClone(tree);
  changes: for (const { key, path, value } of planned(changes)) {
    let cur: Record<string, unknown> = out;
    for (const [i, p] of path.slice(0, -1).entries()) {
      // Own keys only: an inherited one (`toString`) is no key of the config.
      const v = Object.hasOwn(cur, p) ? cur[p] : undefined;
      if (v === undefined || v === null) {
        // Removing below what is not there leaves nothing to do.
        if (value === null) continue changes;
        cur[p] = {};
      } else if (typeof v !== 'object' || Array.isArray(v)) {
        throw new ConfigError(`${key}: ${path.slice(0, i + 1).join('.')} holds a value, not keys`, key);
      }
      cur = cur[p] as Record<string, unknown>;
    }
    const last = path[path.length - 1];
    if (value === null) delete cur[last];
    else cur[last] = structuredClone(value);
  }
  return out;
}

/** Replaces `file` with `text` whole: written beside it, then renamed over it, so readers (and
 * the server's own watcher) see the old file or the new one, never a part. The new file gets
 * the old one's permissions. */
export function writeFileAtomic(file: string, text: string): void {
  let mode: number | undefined;
  try {
    mode = statSync(file).mode & 0o7777;
  } catch {
    // A new file: the umask decides, as for any file.
  }
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileSync(temp, text, { mode: mode ?? 0o666, flag: 'wx' });
    // The umask may have narrowed the mode asked for at creation.
    if (mode !== undefined) chmodSync(temp, mode);
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}
