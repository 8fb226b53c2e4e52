export {
  configSchema,
  configuredSource,
  onDemandByDefault,
  parseSource,
  pathPattern,
  pathSettingsSchema,
  pathsSchema,
  sourceTimings,
  SOURCE_FORMS,
  type Config,
  type ConfigInput,
  type ParsedSource,
  type PathPlaylist,
  type PathSettings,
  type SourceFormScheme,
  type SourceScheme,
  type SourceSpec,
  type SourceTimings,
} from './schema.js';
export { MAX_DESTINATIONS, MAX_INLINE_SDP, RELAY_DEFAULTS, sdpSetting, type PushDestination, type Retry, type SdpSetting } from './relay-schema.js';
export { DEFAULT_ICECAST_PORT, DEFAULT_RTSP_PORTS, parseIcecastUrl, parsePushUrl, parseRtspUrl, parseUdpForward, parseUdpSource, redactUrl, type IcecastUrl, type RtspUrl, type UdpForward, type UdpSourceAddress } from './relay-urls.js';
export { loadConfig, ConfigError, configErrorFrom, type LoadOptions } from './load.js';
export { applyToTree, checkConfigText, configKeyPath, editConfigText, MAX_CHANGES, writeFileAtomic, type ConfigChanges } from './edit.js';
export { dssXmlFault, dssXmlParser } from './dss-xml.js';
