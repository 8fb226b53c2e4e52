export {
  createLogger,
  silentLogger,
  formatTextLine,
  attachLogTee,
  setTeeLevel,
  type Logger,
  type LoggerOptions,
} from './logger.js';
export { type RollingFileProblem } from './rolling-file.js';
export { AccessLog, ACCESS_FIELDS } from './access-log.js';
export { ErrorLog, pinoLevelFor } from './error-log.js';
