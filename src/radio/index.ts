/** Internet radio: Icecast/SHOUTcast sources in, ICY listeners out (a protocol adapter). */
export { isSourceLine, RadioService, type RadioServiceOptions } from './radio-service.js';
export { serveRadioConnection, type RadioPortOptions } from './radio-port.js';
