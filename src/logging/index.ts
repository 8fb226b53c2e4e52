export { createLogger, silentLogger, formatTextLine, type Logger, type LoggerOptions } from './logger.js';
