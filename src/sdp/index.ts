export { buildSdp, type BuildSdpOptions } from './build.js';
