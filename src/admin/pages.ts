/** The admin's pages and their assets, read at run time from the top-level `admin-ui/` folder
 * (beside `src/` and `dist/`): the app shell every page shares, the sign-in page and the setup
 * page, filled in with what only the server knows (why a sign-in failed, the command that makes
 * the first administrator), and the static files under /ui/. A file missing there is answered by
 * a plain page of the server's own, so the admin still works from a partial install. */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SetupCommands } from './auth.js';

/** Where the pages are: `admin-ui/` at the top of the package, from src/admin or dist/admin. */
export const ADMIN_UI_FOLDER = fileURLToPath(new URL('../../admin-ui/', import.meta.url));

/** Largest asset served (the pages' files are a few KiB). */
const MAX_ASSET_BYTES = 4 * 1024 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const fallbackPage = (title: string, body: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Rivulet admin</title></head>\n<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>\n`;

const FALLBACK_SIGNIN = fallbackPage(
  'Sign in',
  '<p id="signin-error" role="alert" hidden></p><form method="post" action="/signin"><p><label>User name <input id="user" name="user" autocomplete="username" required></label></p><p><label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label></p><p><button type="submit">Sign in</button></p></form>',
);
const FALLBACK_APP = fallbackPage(
  'Rivulet admin',
  '<p>The admin pages are not installed (admin-ui/app.html is missing). The API answers at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>',
);
const FALLBACK_SETUP = fallbackPage(
  'Create an administrator',
  '<p>No user may sign in yet: the admin group has no member. On the server, run:</p><pre><code id="create-admin"></code></pre><p>If the users file does not exist yet, create it with:</p><pre><code id="create-admin-new"></code></pre><p>then reload this page and sign in.</p>',
);

export class AdminPages {
  readonly #root: string;
  #realRoot: string | undefined;

  /** `root`: default ADMIN_UI_FOLDER. */
  constructor(root = ADMIN_UI_FOLDER) {
    this.#root = root;
  }

  /** The file of the folder, or undefined when missing or unreadable (the page then falls back). */
  async #read(name: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.#root, name), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** The pages' shell (every signed-in page). */
  async app(): Promise<string> {
    return (await this.#read('app.html')) ?? FALLBACK_APP;
  }

  /** The sign-in page; with `error`, saying why the last try failed and keeping the user name. */
  async signIn(error?: string, user?: string): Promise<string> {
    let html = (await this.#read('signin.html')) ?? FALLBACK_SIGNIN;
    if (error !== undefined) {
      const filled = html.replace(
        /<p id="signin-error"([^>]*?)\s+hidden(\s*[^>]*)><\/p>/,
        (_m, a: string, b: string) => `<p id="signin-error"${a}${b}>${escapeHtml(error)}</p>`,
      );
      html =
        filled !== html
          ? filled
          : html.replace(/<body[^>]*>/, (m) => `${m}<p role="alert">${escapeHtml(error)}</p>`);
    }
    if (user) html = html.replace(/<input id="user"/, `<input id="user" value="${escapeHtml(user)}"`);
    return html;
  }

  /** The page that says how to make the first administrator. */
  async setup(cmd: SetupCommands): Promise<string> {
    const html = (await this.#read('setup.html')) ?? FALLBACK_SETUP;
    const fill = (id: string, text: string) => (h: string) =>
      h.replace(
        new RegExp(`(<code id="${id}"[^>]*>)[^<]*(</code>)`),
        (_m, open: string, close: string) => `${open}${escapeHtml(text)}${close}`,
      );
    return fill('create-admin-new', cmd.create)(fill('create-admin', cmd.add)(html));
  }

  /** A file below the folder for /ui/`rel`; undefined when there is none (or `rel` leads out). */
  async asset(rel: string): Promise<Asset | undefined> {
    const parts = rel.split('/');
    if (
      parts.some(
        (p) =>
          p === '' || p === '.' || p === '..' || p.startsWith('.') || p.includes('\\') || p.includes('\0'),
      )
    )
      return undefined;
    try {
      this.#realRoot ??= await realpath(this.#root);
      const file = await realpath(join(this.#root, ...parts));
      // A link may not lead out of the folder.
      if (!file.startsWith(this.#realRoot + sep)) return undefined;
      const st = await stat(file);
      if (!st.isFile() || st.size > MAX_ASSET_BYTES) return undefined;
      const body = await readFile(file);
      return {
        body,
        type: TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        etag: `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`,
      };
    } catch {
      return undefined;
    }
  }
}
