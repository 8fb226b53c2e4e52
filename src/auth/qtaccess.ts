/** qtaccess files (DSS QTSSAccessModule, modelled on Apache's .htaccess):
 *
 *   AuthName "Members only"            realm shown for Basic
 *   AuthUserFile /etc/streaming/qtusers
 *   AuthGroupFile /etc/streaming/qtgroups
 *   AuthScheme digest                   basic | digest, overrides auth.scheme for this folder
 *   require user alice bob              any of these users
 *   require group staff                 any member of these groups
 *   require valid-user                  anyone in the users file who logs in
 *   require any-user                    everyone, no login
 *   <Limit WRITE> ... </Limit>          rules for broadcasting (ANNOUNCE/RECORD); also
 *                                       <Limit READ> and <Limit READ WRITE>
 *
 * Rules outside a Limit block are for READ (playing). Several `require` lines are alternatives.
 * Keywords are matched without regard to case (DSS matched them exactly: every file DSS read is
 * read the same way); names are exact.
 *
 * Unlike DSS, which skipped lines it did not understand, a line that does not parse makes the
 * whole file `malformed` and the server denies its folder: a typo must close a door, not open
 * it. */

export type RuleKind = 'user' | 'group' | 'valid-user' | 'any-user';

export interface AccessRule {
  kind: RuleKind;
  /** Users or groups for `user` / `group`. */
  names: string[];
}

export interface AccessFileIssue {
  line: number;
  message: string;
}

export interface AccessFile {
  /** AuthName: the realm shown for Basic. */
  authName?: string;
  /** AuthUserFile / AuthGroupFile as written (relative paths are the caller's to resolve). */
  userFile?: string;
  groupFile?: string;
  scheme?: 'basic' | 'digest';
  /** Rules for playing. */
  read: AccessRule[];
  /** Rules for broadcasting, from <Limit WRITE> blocks. */
  write: AccessRule[];
  /** Lines that did not parse; any at all means the folder is denied. */
  issues: AccessFileIssue[];
}

/** Splits a line into words; a double-quoted word may hold spaces. */
function words(line: string): string[] | null {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(line)) !== null) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
    last = re.lastIndex;
  }
  return line.slice(last).trim() === '' ? out : null;
}

/** Rest of the line after the keyword, unquoted when the whole value is one quoted string. */
function restOf(line: string, keyword: string): string {
  const v = line.trim().slice(keyword.length).trim();
  const q = /^"((?:[^"\\]|\\.)*)"$/.exec(v);
  return q ? q[1].replace(/\\(.)/g, '$1') : v;
}

// eslint-disable-next-line no-control-regex
const CTL_RE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

export function parseAccessFile(text: string): AccessFile {
  const out: AccessFile = { read: [], write: [], issues: [] };
  const bad = (line: number, message: string) => out.issues.push({ line, message });
  /** Scope of the lines being read: outside a Limit block, READ. */
  let scope: { read: boolean; write: boolean; line: number } | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (CTL_RE.test(line)) {
      bad(n, 'control characters in the line');
      continue;
    }
    const lower = line.toLowerCase();
    if (lower.startsWith('<limit')) {
      const m = /^<limit((?:\s+[a-z]+)+)\s*>$/i.exec(line);
      if (scope) bad(n, '<Limit> inside another <Limit>');
      if (!m) {
        bad(n, 'expected <Limit READ>, <Limit WRITE> or <Limit READ WRITE>');
        scope = { read: false, write: false, line: n };
        continue;
      }
      const methods = m[1].trim().toUpperCase().split(/\s+/);
      const unknown = methods.filter((x) => x !== 'READ' && x !== 'WRITE');
      if (unknown.length) bad(n, `unknown access ${unknown.join(' ')} in <Limit> (READ or WRITE)`);
      scope = { read: methods.includes('READ'), write: methods.includes('WRITE'), line: n };
      continue;
    }
    if (lower === '</limit>') {
      if (!scope) bad(n, '</Limit> without <Limit>');
      scope = null;
      continue;
    }
    const w = words(line);
    if (!w || w.length === 0) {
      bad(n, 'unbalanced quotes');
      continue;
    }
    const key = w[0].toLowerCase();
    switch (key) {
      case 'authname': {
        const v = restOf(line, w[0]);
        if (v === '') bad(n, 'AuthName needs a name');
        else out.authName = v;
        break;
      }
      case 'authuserfile':
      case 'authgroupfile': {
        const v = restOf(line, w[0]);
        if (v === '') bad(n, `${w[0]} needs a path`);
        else if (key === 'authuserfile') out.userFile = v;
        else out.groupFile = v;
        break;
      }
      case 'authscheme': {
        const v = w[1]?.toLowerCase();
        if (w.length !== 2 || (v !== 'basic' && v !== 'digest')) bad(n, 'AuthScheme must be basic or digest');
        else out.scheme = v;
        break;
      }
      case 'require': {
        const kind = w[1]?.toLowerCase();
        let rule: AccessRule | undefined;
        if (kind === 'valid-user' || kind === 'any-user') {
          if (w.length === 2) rule = { kind, names: [] };
          else bad(n, `require ${kind} takes no names`);
        } else if (kind === 'user' || kind === 'group') {
          if (w.length > 2) rule = { kind, names: w.slice(2) };
          else bad(n, `require ${kind} needs at least one name`);
        } else bad(n, 'require must be followed by user, group, valid-user or any-user');
        if (rule) {
          const s = scope ?? { read: true, write: false };
          if (s.read) out.read.push(rule);
          if (s.write) out.write.push(rule);
        }
        break;
      }
      default:
        bad(n, `unknown directive '${w[0].slice(0, 40)}'`);
    }
  }
  if (scope) bad(scope.line, '<Limit> is never closed with </Limit>');
  return out;
}
