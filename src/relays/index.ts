/** Relays (issue 12): pulled sources (`rtsp://`, `rtsps://`), destinations (push, forward), and
 * DSS relayconfig.xml read as `paths:` entries. Imported by the composition root and the command
 * line only (the `relays-only-from-the-top` layer rule). */
export {
  readDssRelayConfig,
  mergeDssPaths,
  parseDssRelayConfig,
  DssConfigError,
  type DssRelayConfig,
  type DssRelayIssue,
  type DssRelayPath,
} from './dss-config.js';
export { RelayDestinations, type RelayDestinationsOptions } from './destinations/index.js';
export { relayStarters, type RelayStartersOptions } from './pull-source.js';
export { resolveServerId } from './server-id.js';
