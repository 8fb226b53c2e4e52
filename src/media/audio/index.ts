/** Plain audio files presented as one-track movies: MPEG audio (frame index), WAV, AIFF/AIFF-C and
 * Sun .au (frame-level PCM tracks), plus the block view that streams PCM tracks of any origin. */
export { openMp3, Mp3Track } from './mp3.js';
export { openWav } from './wav.js';
export { openAiff, readExtended } from './aiff.js';
export { openAu } from './au.js';
export { AudioFileError } from './file.js';
export { PcmDataTrack, type PcmDataTrackOptions } from './pcm-data-track.js';
export { PcmBlockTrack } from './pcm-blocks.js';
