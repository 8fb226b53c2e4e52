/** ISO-BMFF / QuickTime reading: the moov index (openMovie, cached by getMovie) and sample bytes
 * (createSampleReader, through the ReadCache a file's viewers share). Codec configuration records
 * (avcC, hvcC, esds) are handed over as raw bytes; src/codecs decodes them. */
export { openMovie, MAX_MOOV_SIZE } from './reader.js';
export { getMovie, clearMovieCache, movieCacheSize, MOVIE_CACHE_SIZE } from './cache.js';
export { createSampleReader, DEFAULT_READ_AHEAD, type SampleReaderOptions } from './sample-reader.js';
export { ReadCache, DEFAULT_BLOCK_SIZE, type ReadCacheOptions, type ReadCacheStats } from './read-cache.js';
export { Mp4Error, type Mp4Movie, type Mp4Track, type SampleInfo, type SampleReader } from './types.js';
