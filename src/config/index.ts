export { configSchema, configuredSource, parseSource, pathPattern, SOURCE_FORMS, type Config, type ConfigInput, type PathPlaylist, type SourceScheme, type SourceSpec } from './schema.js';
export { loadConfig, ConfigError, type LoadOptions } from './load.js';
