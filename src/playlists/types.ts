/** Shapes shared by the playlist parsers, the picker and their callers (the `rivulet playlist`
 * command now, the broadcaster source later). */

/** DSS's three play modes, spelled as its `.config` spells them. */
export type PlayMode = 'sequential' | 'sequential_looped' | 'weighted_random';

export const PLAY_MODES: readonly PlayMode[] = ['sequential', 'sequential_looped', 'weighted_random'];

/** Something a user should fix in a playlist or config file, and where. */
export interface PlaylistIssue {
  /** The file it is in (absolute). */
  file: string;
  /** 1-based line, when the issue belongs to one line. */
  line?: number;
  message: string;
}

/** `file:line: message`, as compilers say it, so editors can jump there. */
export function formatIssue(i: PlaylistIssue): string {
  return `${i.file}${i.line ? `:${i.line}` : ''}: ${i.message}`;
}

/** A playlist or its setup that cannot be used at all (unreadable file, no `*PLAY-LIST*`
 * header, a no-repeat window the list cannot satisfy). Lesser problems are `PlaylistIssue`s. */
export class PlaylistError extends Error {
  override readonly name: string = 'PlaylistError';
}
