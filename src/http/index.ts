export {
  answerApi,
  API_ERROR_SCHEMA,
  API_PREFIX,
  ApiError,
  apiErrorAnswer,
  apiHandler,
  type ApiAnswer,
  type ApiCaller,
  type ApiHandlerOptions,
  type ApiMethod,
  type ApiRequest,
  type ApiRoute,
  type ApiRouteDoc,
  type JsonSchema,
} from './api.js';
export { playlistApiRoutes, SOURCE_INFO_SCHEMA, type PlaylistControl } from './playlist-api.js';
export { httpHead, sendHttp, type HttpHeaders } from './reply.js';
export {
  HttpRouter,
  type HttpExchange,
  type HttpReplyOptions,
  type HttpRequestHead,
  type HttpRoute,
  type HttpRouterOptions,
} from './router.js';
export { ParsedHttpHead, readHttpHead, type HeadReaderOptions, type HeadResult } from './head-reader.js';
