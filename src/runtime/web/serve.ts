/**
 * Serving a web site with the headers WASM threads need: SharedArrayBuffer exists only in a
 * cross-origin-isolated page (Cross-Origin-Opener-Policy: same-origin plus
 * Cross-Origin-Embedder-Policy: require-corp). Files are served by serve-handler (Vercel's `serve`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import handler from 'serve-handler';
import { UserError } from '../../util/errors.ts';

export const ISOLATION_HEADERS: readonly { key: string; value: string }[] = [
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Cross-Origin-Embedder-Policy', value: 'require-corp' },
  { key: 'Cross-Origin-Resource-Policy', value: 'same-origin' },
];

export interface ServeOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
}

export interface SiteServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveSite(dir: string, opts: ServeOptions): Promise<SiteServer> {
  const root = path.resolve(dir);
  if (!(await stat(path.join(root, 'index.html')).catch(() => undefined))?.isFile())
    throw new UserError(`${dir} has no index.html (make one with stc export ... --target web -o ${dir})`);
  const config = {
    public: root,
    headers: [{ source: '**', headers: [...ISOLATION_HEADERS] }],
    // The page and the models change on re-export; always revalidate.
    etag: true,
  };
  const server = http.createServer((req, res) => {
    handler(req, res, config).catch((e: Error) => {
      res.statusCode = 500;
      res.end(e.message);
    });
  });
  // Node's 5 s keep-alive lets a client reuse a socket just as the server closes it (ECONNRESET under load).
  server.keepAliveTimeout = 60_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError(`port ${opts.port} is in use; pick another with --port`) : e.code === 'EACCES' ? new UserError(`no permission to listen on port ${opts.port}`) : e),
    );
    server.listen(opts.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
