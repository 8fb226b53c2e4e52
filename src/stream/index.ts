export type { Format, Track, StreamDescription } from './types.js';
