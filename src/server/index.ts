export { RivuletServer, StartupError, type RivuletServerOptions, type ListeningAddress } from './server.js';
