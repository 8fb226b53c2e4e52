/** Relay destinations: where a path's live stream is sent on while it runs, pushed to other
 * servers (ANNOUNCE/SETUP/RECORD) or forwarded by UDP, each leg with its state and figures. */
export { RelayDestinations, type RelayDestinationsOptions } from './relay-destinations.js';
