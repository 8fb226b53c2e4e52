export { httpHead, sendHttp, type HttpHeaders } from './reply.js';
export {
  HttpRouter,
  type HttpExchange,
  type HttpReplyOptions,
  type HttpRequestHead,
  type HttpRoute,
  type HttpRouterOptions,
} from './router.js';
