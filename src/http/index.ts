export { answerApi, API_PREFIX, ApiError, apiErrorAnswer, apiHandler, type ApiAnswer, type ApiHandlerOptions, type ApiRequest, type ApiRoute } from './api.js';
export { playlistApiRoutes, type PlaylistControl } from './playlist-api.js';
export { httpHead, sendHttp, type HttpHeaders } from './reply.js';
export {
  HttpRouter,
  type HttpExchange,
  type HttpReplyOptions,
  type HttpRequestHead,
  type HttpRoute,
  type HttpRouterOptions,
} from './router.js';
