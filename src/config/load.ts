/** Builds the effective config: defaults < YAML file < `--set key=value` < dedicated flags. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The dotted key the error is about (`limits.maxConnections`), when it is about one: the
   * admin answers it beside the message. */
  readonly key: string | undefined;

  constructor(message: string, key?: string) {
    super(message);
    this.key = key;
  }
}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strips default/prefault/optional wrappers to reach the schema that decides a value's shape. */
function unwrap(s: z.ZodType): z.ZodType {
  let cur = s as z.ZodType & { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } };
  for (;;) {
    const d = cur.def;
    if (d.innerType && ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(d.type)) {
      cur = d.innerType;
    } else if (d.type === 'pipe' && d.in) {
      cur = d.in;
    } else return cur;
  }
}

function schemaAt(path: string[]): z.ZodType | undefined {
  let cur: z.ZodType = configSchema;
  for (const key of path) {
    const u = unwrap(cur) as z.ZodType & { shape?: Record<string, z.ZodType> };
    const next = u.shape?.[key];
    if (!next) return undefined;
    cur = next;
  }
  return unwrap(cur);
}

/** Turns `--set group.key=value` text into a typed value guided by the schema. */
function coerce(path: string[], text: string): unknown {
  const s = schemaAt(path);
  if (!s) throw new ConfigError(`unknown config key '${path.join('.')}' in --set`, path.join('.'));
  const typeOf = (x: z.ZodType) => (unwrap(x) as { def: { type: string } }).def.type;
  // Text stays text where the schema wants a string ('::' is a valid bind address, not YAML);
  // everything else is read as a YAML scalar (numbers, booleans) and the schema judges it.
  const value = (t: string, type: string): unknown => {
    if (type === 'string' || type === 'enum') return t;
    let v: unknown;
    try {
      v = parseYaml(t);
    } catch {
      return t;
    }
    return v === null ? t : v;
  };
  const type = typeOf(s);
  if (type === 'array') {
    const element = (s as unknown as { def: { element: z.ZodType } }).def.element;
    const et = typeOf(element);
    return text === '' ? [] : text.split(',').map((p) => value(p.trim(), et));
  }
  return value(text, type);
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let cur = tree;
  for (const key of path.slice(0, -1)) {
    if (!isTree(cur[key])) cur[key] = {};
    cur = cur[key] as Tree;
  }
  cur[path[path.length - 1]] = value;
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isTree(v) && isTree(out[k]) ? merge(out[k], v) : v;
  return out;
}

export interface LoadOptions {
  /** YAML file path. */
  configFile?: string;
  /** `group.key=value` strings from repeated `--set`. */
  sets?: string[];
  /** Dedicated flags already shaped as config (they win over everything). */
  flags?: Tree;
  /** Directory relative paths on the command line resolve against (default: process.cwd()). */
  cwd?: string;
  /** The config file's content, read instead of the file (an edit checked before it is
   * written); `configFile` still names it for relative paths and messages. */
  text?: string;
}

/** The dotted key a schema issue is about: an unknown key's own name when it is one. */
function issueKey(i: z.core.$ZodIssue): string {
  const path = i.path.map(String);
  if (i.code === 'unrecognized_keys' && i.keys.length === 1) path.push(i.keys[0]);
  return path.join('.');
}

/** The schema's verdict on a config as a ConfigError: one line per issue, each naming its key,
 * and the first issue's key as the error's `key`. */
export function configErrorFrom(err: z.ZodError, origin: string): ConfigError {
  const lines = err.issues.map((i) => {
    const key = i.path.join('.') || '(top level)';
    const keys = i.code === 'unrecognized_keys' ? ` ${i.keys.map((k) => `'${k}'`).join(', ')}` : '';
    const msg = i.code === 'unrecognized_keys' ? `unknown key${keys}` : i.message;
    return `${origin}: ${key}: ${msg}`;
  });
  return new ConfigError(lines.join('\n'), err.issues.length > 0 ? issueKey(err.issues[0]) || undefined : undefined);
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  let fromFile: Tree = {};
  let origin = 'config';
  if (opts.configFile) {
    const file = resolve(cwd, opts.configFile);
    origin = file;
    let text: string;
    try {
      text = opts.text ?? readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (e) {
      const where = e instanceof YAMLParseError && e.linePos ? ` line ${e.linePos[0].line}` : '';
      throw new ConfigError(`${file}${where}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    if (parsed != null && !isTree(parsed)) throw new ConfigError(`${file}: the top level must be a mapping of groups`);
    fromFile = (parsed as Tree | null) ?? {};
    // A media folder named in the file is relative to the file, as users expect of config files.
    const media = fromFile.media;
    if (isTree(media) && typeof media.dir === 'string' && !isAbsolute(media.dir)) {
      fromFile = merge(fromFile, { media: { dir: resolve(dirname(file), media.dir) } });
    }
    const tls = fromFile.tls;
    for (const key of ['cert', 'key']) {
      const v = isTree(tls) ? tls[key] : undefined;
      if (typeof v === 'string' && !isAbsolute(v)) fromFile = merge(fromFile, { tls: { [key]: resolve(dirname(file), v) } });
    }
    const adminTls = isTree(fromFile.admin) ? fromFile.admin.tls : undefined;
    for (const key of ['cert', 'key']) {
      const v = isTree(adminTls) ? adminTls[key] : undefined;
      if (typeof v === 'string' && !isAbsolute(v)) fromFile = merge(fromFile, { admin: { tls: { [key]: resolve(dirname(file), v) } } });
    }
    const auth = fromFile.auth;
    for (const key of ['usersFile', 'groupsFile']) {
      const v = isTree(auth) ? auth[key] : undefined;
      if (typeof v === 'string' && !isAbsolute(v)) fromFile = merge(fromFile, { auth: { [key]: resolve(dirname(file), v) } });
    }
  }
  const fromSets: Tree = {};
  for (const s of opts.sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set expects group.key=value, got '${s}'`);
    const path = s.slice(0, eq).trim().split('.');
    setPath(fromSets, path, coerce(path, s.slice(eq + 1)));
  }
  const merged = merge(merge(fromFile, fromSets), opts.flags ?? {});
  const r = configSchema.safeParse(merged);
  if (!r.success) throw configErrorFrom(r.error, opts.configFile ? origin : 'config');
  const cfg = r.data;
  cfg.media.dir = resolve(cwd, cfg.media.dir);
  for (const tls of [cfg.tls, cfg.admin.tls]) {
    if (tls.cert) tls.cert = resolve(cwd, tls.cert);
    if (tls.key) tls.key = resolve(cwd, tls.key);
  }
  cfg.auth.usersFile = resolve(cwd, cfg.auth.usersFile);
  cfg.auth.groupsFile = resolve(cwd, cfg.auth.groupsFile);
  // Folders and files the server reads and writes are relative to the config file (a service's
  // working folder is often /), also when left at their defaults; a --set value, like
  // media.dir's, to the working folder; no config file: the working folder.
  const base = opts.configFile ? dirname(resolve(cwd, opts.configFile)) : cwd;
  const fromBase = (group: 'logs' | 'state' | 'playlists' | 'relays', key: string, value: string): string => {
    const set = fromSets[group];
    return value === '' ? '' : resolve(isTree(set) && key in set ? cwd : base, value);
  };
  cfg.logs.folder = fromBase('logs', 'folder', cfg.logs.folder);
  cfg.state.folder = fromBase('state', 'folder', cfg.state.folder);
  cfg.playlists.folder = fromBase('playlists', 'folder', cfg.playlists.folder);
  cfg.relays.dssConfig = fromBase('relays', 'dssConfig', cfg.relays.dssConfig);
  if (cfg.control.socket !== '') cfg.control.socket = resolve(cfg.state.folder, cfg.control.socket);
  return cfg;
}
