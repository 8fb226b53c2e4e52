/** Protocol-neutral helpers for the network edge, shared by auth/, RTSP and HTTP: address
 * allow-lists and the header-value grammar (quoted strings, HeaderError) both protocols use. */
export { addressAllowed } from './address-allow.js';
export { HeaderError } from './header-error.js';
export { splitOutsideQuotes, unquote } from './header-params.js';
