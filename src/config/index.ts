export { configSchema, parseSource, pathPattern, SOURCE_FORMS, type Config, type ConfigInput, type SourceScheme, type SourceSpec } from './schema.js';
export { loadConfig, ConfigError, type LoadOptions } from './load.js';
