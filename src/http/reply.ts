/** The few HTTP/1.0 responses the shared ports give: the tunnel's GET answer, reference movies and
 * errors. Every one closes the connection when its body is done (`Connection: close`). */
import type { Socket } from 'node:net';

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Header fields as a record, or as name/value pairs when a name repeats (WWW-Authenticate). */
export type HttpHeaders = Record<string, string> | [string, string][];

export function httpHead(status: number, headers: HttpHeaders, serverHeader: string): string {
  let head = `HTTP/1.0 ${status} ${REASONS[status] ?? 'Error'}\r\n`;
  if (serverHeader) head += `Server: ${serverHeader}\r\n`;
  head += `Date: ${new Date().toUTCString()}\r\nConnection: close\r\n`;
  for (const [k, v] of Array.isArray(headers) ? headers : Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return `${head}\r\n`;
}

/** Writes a complete response and closes the connection once it is sent. `headOnly` (a HEAD
 * request) writes the head a GET would get, Content-Length included, without the body. */
export function sendHttp(
  socket: Socket,
  status: number,
  serverHeader: string,
  body = '',
  type = 'text/plain',
  extra: [string, string][] = [],
  headOnly = false,
): void {
  const headers: [string, string][] = [['Content-Length', String(Buffer.byteLength(body))]];
  if (body) headers.push(['Content-Type', type]);
  headers.push(...extra);
  socket.end(httpHead(status, headers, serverHeader) + (headOnly ? '' : body));
  // A peer that never reads must not keep the socket forever.
  setTimeout(() => socket.destroy(), 5000).unref();
}
