import { stat } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Vite puts a content hash in every name under assets/: a name never changes meaning, so browsers keep them a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and other unhashed files name the current assets: revalidate on every load. */
const REVALIDATE = 'no-cache';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function notBuiltPage(where: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>StockStream: dashboard not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#8882;padding:0 .25em;border-radius:3px}</style></head>
<body><h1>The dashboard is not built</h1>
<p>StockStream looked for the dashboard at <code>${escapeHtml(where)}</code> and found no <code>index.html</code> there.</p>
<p>Run <code>npm run build</code> in the StockStream folder, then reload this page.</p>
<p>The API works meanwhile: <a href="/api/health">/api/health</a>, <a href="/api/symbols">/api/symbols</a>, <a href="/metrics">/metrics</a>.</p>
</body></html>
`;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function sendNotBuilt(reply: FastifyReply, where: string): FastifyReply {
  return reply.code(503).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(notBuiltPage(where));
}

/**
 * The dashboard (a static Vite build) at `/`: index.html revalidated on every load, hashed files
 * under assets/ cached for a year. When `webDir` or its index.html is missing, `/` answers 503
 * with a page saying to run `npm run build`, and the API keeps working. Files are looked up per
 * request, so a build made while the server runs is served without a restart. Paths that are
 * neither a route nor a file fall through to the app's JSON 404.
 */
export function registerWebApp(app: FastifyInstance, webDir: string | undefined): void {
  if (webDir === undefined) {
    app.get('/', async (_request, reply) => sendNotBuilt(reply, '(no package folder was found, so no dist/web)'));
    return;
  }
  const root = path.resolve(webDir);
  const assets = path.join(root, 'assets') + path.sep;
  void app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: true,
    index: false,
    dotfiles: 'ignore',
    // Our own Cache-Control per file kind instead of send's max-age=0 for everything.
    cacheControl: false,
    setHeaders: (res, file) => {
      res.setHeader('Cache-Control', file.startsWith(assets) ? IMMUTABLE : REVALIDATE);
    },
  });
  const index = path.join(root, 'index.html');
  app.get('/', async (_request, reply) => ((await isFile(index)) ? reply.sendFile('index.html') : sendNotBuilt(reply, root)));
}
