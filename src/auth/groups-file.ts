/** The DSS groups file (qtgroups): `group: user1 user2 ...` per line, `#` comments. */
import type { FileIssue } from './users-file.js';

export interface GroupsFile {
  /** Group name → members. */
  groups: Map<string, Set<string>>;
  issues: FileIssue[];
}

/** A groups file with no group in it (one that cannot be read). */
export const NO_GROUPS: GroupsFile = { groups: new Map(), issues: [] };

type Line = { kind: 'group'; name: string; members: string[] } | { kind: 'other'; text: string };

/** The groups file as lines, kept in order so `rivulet passwd` rewrites only what it changes. */
export class GroupsFileDoc {
  readonly #lines: Line[];
  readonly issues: FileIssue[] = [];

  private constructor(lines: Line[]) {
    this.#lines = lines;
  }

  static create(): GroupsFileDoc {
    return new GroupsFileDoc([]);
  }

  static parse(text: string): GroupsFileDoc {
    const doc = new GroupsFileDoc([]);
    const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    for (const [i, raw] of lines.entries()) {
      const t = raw.trim();
      const colon = t.indexOf(':');
      if (t === '' || t.startsWith('#')) doc.#lines.push({ kind: 'other', text: raw });
      else if (colon <= 0) {
        doc.issues.push({ line: i + 1, message: 'not a group line (group: user1 user2)' });
        doc.#lines.push({ kind: 'other', text: raw });
      } else {
        const members = t
          .slice(colon + 1)
          .split(/[ \t]+/)
          .filter((m) => m !== '');
        doc.#lines.push({ kind: 'group', name: t.slice(0, colon).trim(), members });
      }
    }
    return doc;
  }

  #group(name: string): { kind: 'group'; name: string; members: string[] } | undefined {
    for (const l of this.#lines) if (l.kind === 'group' && l.name === name) return l;
    return undefined;
  }

  has(group: string): boolean {
    return this.#group(group) !== undefined;
  }

  members(group: string): string[] {
    return [...(this.#group(group)?.members ?? [])];
  }

  /** Creates an empty group; false if it exists. */
  createGroup(group: string): boolean {
    if (this.has(group)) return false;
    this.#lines.push({ kind: 'group', name: group, members: [] });
    return true;
  }

  /** Deletes a group; false if there was none. */
  deleteGroup(group: string): boolean {
    const at = this.#lines.findIndex((l) => l.kind === 'group' && l.name === group);
    if (at < 0) return false;
    this.#lines.splice(at, 1);
    return true;
  }

  /** Adds a member, creating the group if needed; false if already a member. */
  addMember(group: string, user: string): boolean {
    this.createGroup(group);
    const g = this.#group(group)!;
    if (g.members.includes(user)) return false;
    g.members.push(user);
    return true;
  }

  /** Removes a member; false if not a member. */
  removeMember(group: string, user: string): boolean {
    const g = this.#group(group);
    if (!g || !g.members.includes(user)) return false;
    g.members = g.members.filter((m) => m !== user);
    return true;
  }

  /** Removes a user from every group (when the user is deleted). */
  removeEverywhere(user: string): void {
    for (const l of this.#lines) if (l.kind === 'group') l.members = l.members.filter((m) => m !== user);
  }

  toString(): string {
    return this.#lines
      .map((l) => (l.kind === 'group' ? `${l.name}: ${l.members.join(' ')}`.trimEnd() : l.text) + '\n')
      .join('');
  }

  toGroups(): GroupsFile {
    const groups = new Map<string, Set<string>>();
    for (const l of this.#lines) {
      if (l.kind !== 'group') continue;
      const s = groups.get(l.name) ?? new Set<string>();
      for (const m of l.members) s.add(m);
      groups.set(l.name, s);
    }
    return { groups, issues: this.issues };
  }
}

export function parseGroupsFile(text: string): GroupsFile {
  return GroupsFileDoc.parse(text).toGroups();
}
