export { H263Packetizer } from './packetizer.js';
export type { H263PacketizerOptions } from './packetizer.js';
export { H263Depacketizer } from './depacketizer.js';
export { h263Format, parseD263 } from './format.js';
export type { H263Config, H263FormatOptions } from './format.js';
