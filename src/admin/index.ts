/** The web admin, the REST API under /api/v1 and /metrics, on admin.port. */
export {
  buildAdminApp,
  MAX_BODY_BYTES,
  PAGES,
  SESSION_COOKIE,
  type AdminApp,
  type AdminAppOptions,
  type MetricsText,
} from './app.js';
export { adminApiRoutes, type AccessHistory, type AdminApiContext, type AdminLogs } from './api.js';
export { AdminAuth, crossSiteReason, setupCommands, type AdminUsers, type SetupCommands } from './auth.js';
export { openApiDocument } from './openapi.js';
export { ADMIN_UI_FOLDER, AdminPages } from './pages.js';
