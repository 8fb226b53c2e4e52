/** Reads a V8 CPU profile (`node --cpu-prof`) for the radio benchmark: only the samples taken
 * inside the measuring window (the ramp's connection setup would otherwise hide the steady
 * state), the top functions by self time, and the inclusive time of the functions of chosen
 * files (where the time under src/radio/listener.ts goes). */
import { basename } from 'node:path';

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  /** µs, the monotonic clock process.hrtime reads. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileReport {
  /** Samples inside the window (all of them when the window held none). */
  samples: number;
  /** False when no sample fell inside the window and the whole profile was used. */
  windowed: boolean;
  idlePct: number;
  /** [function, % of busy samples] by self time, highest first. */
  self: [string, number][];
  /** [function, % of busy samples] including callees, for functions of the chosen files. */
  inclusive: [string, number][];
}

const label = (f: CpuProfile['nodes'][number]['callFrame']) =>
  f.url ? `${f.functionName || '(anonymous)'} ${basename(f.url)}:${f.lineNumber + 1}` : f.functionName;

/** `fromUs`/`toUs`: the window on process.hrtime's clock in µs; `files`: URL endings whose
 * functions get inclusive figures (e.g. 'src/radio/listener.ts'). */
export function profileReport(
  p: CpuProfile,
  opts: { fromUs?: number; toUs?: number; top?: number; files?: string[] } = {},
): ProfileReport {
  const parent = new Map<number, number>();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const at: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas) at.push((t += d));
  const from = opts.fromUs ?? -Infinity;
  const to = opts.toUs ?? Infinity;
  let picked = p.samples.filter((_, i) => at[i] >= from && at[i] <= to);
  const windowed = picked.length > 0;
  if (!windowed) picked = p.samples;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const files = opts.files ?? [];
  let idle = 0;
  for (const id of picked) {
    const node = byId.get(id);
    if (!node) continue;
    const k = label(node.callFrame);
    if (k === '(idle)') {
      idle++;
      continue;
    }
    self.set(k, (self.get(k) ?? 0) + 1);
    if (!files.length) continue;
    // Each function once per sample, however deep it recurses.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!files.some((e) => f.url.endsWith(e))) continue;
      const key = label(f);
      if (!seen.has(key)) {
        seen.add(key);
        incl.set(key, (incl.get(key) ?? 0) + 1);
      }
    }
  }
  const busy = Math.max(1, picked.length - idle);
  const pct = (m: Map<string, number>, n: number): [string, number][] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, c]) => [k, +((100 * c) / busy).toFixed(1)]);
  return {
    samples: picked.length,
    windowed,
    idlePct: picked.length ? +((100 * idle) / picked.length).toFixed(1) : 0,
    self: pct(self, opts.top ?? 15),
    inclusive: pct(incl, opts.top ?? 15),
  };
}
