export { Base64Error, Base64StreamDecoder } from './base64-stream.js';
export { TunnelBroker, type TunnelBrokerOptions } from './broker.js';
export { rtspHttpRoutes, type HttpEntryDeps } from './http-entry.js';
export { referenceMovie, type RefMovieAnswer, type RefMovieDeps } from './ref-movie.js';
export { sniffOpening, type Opening, type SniffOptions } from './sniff.js';
export { TunnelSocket } from './tunnel-socket.js';
