export {
  createLogger,
  silentLogger,
  formatTextLine,
  formatFields,
  attachLogTee,
  setTeeLevel,
  type Logger,
  type LoggerOptions,
  type LogEntry,
  type LogSink,
} from './logger.js';
export {
  RollingFile,
  type RollingFileOptions,
  type RollingFileProblem,
  type RollingFileSettings,
} from './rolling-file.js';
export {
  AccessLog,
  ACCESS_FIELDS,
  formatAccessLine,
  parseUserAgent,
  type AccessLineContext,
  type UserAgentTokens,
} from './access-log.js';
export { ErrorLog, ERROR_LEVELS, errorLevelOf, pinoLevelFor, formatErrorLine } from './error-log.js';
