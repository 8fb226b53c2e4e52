/** The dates of DSS's log files (QTSSRollingLog): `YYYY-MM-DD HH:MM:SS` in lines, the creation
 * stamp `#Log File Created On: MM/DD/YYYY HH:MM:SS` on each file's first line (local time, read
 * back to know the file's age), and the `yymmdd` of a rolled file's name. */

const two = (n: number) => String(n).padStart(2, '0');

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function parts(ms: number, gmt: boolean): Parts {
  const t = new Date(ms);
  return gmt
    ? {
        y: t.getUTCFullYear(),
        mo: t.getUTCMonth() + 1,
        d: t.getUTCDate(),
        h: t.getUTCHours(),
        mi: t.getUTCMinutes(),
        s: t.getUTCSeconds(),
      }
    : {
        y: t.getFullYear(),
        mo: t.getMonth() + 1,
        d: t.getDate(),
        h: t.getHours(),
        mi: t.getMinutes(),
        s: t.getSeconds(),
      };
}

/** `YYYY-MM-DD HH:MM:SS`, in GMT or in local time. */
export function formatDateTime(ms: number, gmt: boolean): string {
  const p = parts(ms, gmt);
  return `${p.y}-${two(p.mo)}-${two(p.d)} ${two(p.h)}:${two(p.mi)}:${two(p.s)}`;
}

const CREATED = '#Log File Created On: ';

/** The first line of every log file, local time, with its line break. */
export function createdOnLine(ms: number): string {
  const p = parts(ms, false);
  return `${CREATED}${two(p.mo)}/${two(p.d)}/${p.y} ${two(p.h)}:${two(p.mi)}:${two(p.s)}\n`;
}

/** The creation time a file's first line records, or undefined when it is not such a line (the
 * file then never rolls by age, as in DSS). */
export function parseCreatedOn(line: string): number | undefined {
  const m = /^#Log File Created On: (\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{1,2}):(\d{1,2})/.exec(line);
  if (!m) return undefined;
  const [mo, d, y, h, mi, s] = m.slice(1).map(Number);
  const t = new Date(y, mo - 1, d, h, mi, s);
  // Refuses 13/45/2024 and the like instead of letting Date carry them over.
  return t.getMonth() === mo - 1 && t.getDate() === d ? t.getTime() : undefined;
}

/** When a file created at `createdMs` is due to roll: `days` calendar days after midnight (local)
 * of its creation day. */
export function rollDueAt(createdMs: number, days: number): number {
  const c = new Date(createdMs);
  return new Date(c.getFullYear(), c.getMonth(), c.getDate() + days).getTime();
}

/** `yymmdd` (local) of a rolled file's name. */
export function rollStamp(ms: number): string {
  const p = parts(ms, false);
  return `${two(p.y % 100)}${two(p.mo)}${two(p.d)}`;
}
