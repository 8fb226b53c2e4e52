export { configSchema, pathPattern, type Config, type ConfigInput } from './schema.js';
export { loadConfig, ConfigError, type LoadOptions } from './load.js';
