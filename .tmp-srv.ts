import { startServer } from './test/helpers/server.js';
const s = await startServer({ mediaDir: '/work/main/media', sets: ['rtsp.httpPorts=0'], log: !!process.env.LOGS });
console.log('PORT', s.port, s.server.httpPorts.join(','));
setTimeout(() => void s.close().then(() => process.exit(0)), Number(process.env.T ?? 30000));
