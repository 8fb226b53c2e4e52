/** A header value that does not parse. `status` is the response a server should send: 400 for
 * bad syntax unless a header parser says otherwise (e.g. 457 for a backwards Range). */
export class HeaderError extends Error {
  override readonly name = 'HeaderError';
  readonly header: string;
  readonly status: number;

  constructor(header: string, message: string, status = 400) {
    super(`${header}: ${message}`);
    this.header = header;
    this.status = status;
  }
}
