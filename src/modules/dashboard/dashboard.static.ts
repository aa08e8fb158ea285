import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where the HTML shell lives; `/dashboard` is the path the DSR seed's users know. */
export const DASHBOARD_PATHS = ['/', '/dashboard', '/dashboard/'] as const;

// The page loads only its own bundles and talks only to Grid; no inline script, no framing.
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

function setHeaders(reply: FastifyReply, file: string): void {
  // Bundles are named by their content hash, so they never change; the shell must be re-read to find new ones.
  reply.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
  reply.headers(SECURITY_HEADERS);
}

/**
 * Serves the built dashboard (dist/dashboard, from `npm run build`) with @fastify/static:
 * gzip/brotli copies made at build time, hashed assets cached for good. The shell and its
 * bundles carry no data, so they need no credentials; every route they call is guarded.
 */
export async function serveDashboard(fastify: FastifyInstance, dir: string): Promise<void> {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    const missing = (_req: unknown, reply: FastifyReply) =>
      reply.status(503).header('content-type', 'text/plain; charset=utf-8').send(`The dashboard is not built (${dir} has no index.html): run npm run build. The API is at /docs.\n`);
    for (const p of DASHBOARD_PATHS) fastify.get(p, missing);
    return;
  }
  // Bundles are looked up per request (wildcard), so an `npm run build` while Grid runs serves the new ones at once.
  await fastify.register(fastifyStatic, {
    root: path.join(dir, 'assets'),
    prefix: '/assets/',
    wildcard: true,
    index: false,
    preCompressed: true,
    cacheControl: false,
    etag: true,
    lastModified: false,
    setHeaders: (res, file) => setHeaders(res, file),
    // The .gz/.br twins are served in place of their file, never as files of their own.
    allowedPath: (p) => !/\.(gz|br)$/.test(p),
  });
  const shell = (_req: unknown, reply: FastifyReply) => reply.sendFile('index.html', dir);
  for (const p of [...DASHBOARD_PATHS, '/index.html']) fastify.get(p, shell);
}
