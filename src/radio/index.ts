/** Internet radio: Icecast/SHOUTcast sources in, ICY listeners out (a protocol adapter). */
export { isSourceLine, RadioService, SOURCE_USER, sourceInfo, type RadioServiceOptions } from './radio-service.js';
export { serveRadioConnection, type RadioPortOptions } from './radio-port.js';
export { IcyListener } from './listener.js';
export { IcyInterleaver, metadataBlock } from './icy-metadata.js';
