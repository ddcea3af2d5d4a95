#!/usr/bin/env node
// A tiny static file server for the page, its models, benchmarks and test fixtures.
//
// Usage: node scripts/serve.mjs DIR [--port N] [--host H] [--header 'Name: value']...
//        [--cors] [--mount /prefix=DIR]... [--no-isolation]
// Prints "serving DIR at http://HOST:PORT/" once listening. Port 0 (the default) picks a free one.
// The command serves cross-origin isolated (ISOLATION_HEADERS), so the explorer runs its engine on
// several threads; --no-isolation serves as a plain static host would. `serve()` adds them only
// when asked (`isolated: true`).
// Follows symlinks (models are linked in); refuses paths that climb out of DIR. Sends ETag and
// Last-Modified, and answers a conditional request for an unchanged file with 304.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The two headers that make a page cross-origin isolated (`crossOriginIsolated`, so wasm memory can
 * be shared with workers): every resource the page loads must then be same-origin or allow it.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** MIME type by file extension. */
export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves `root` over HTTP. Resolves to `{server, url, close}` once listening.
 * `headers` are added to every response (after ISOLATION_HEADERS when `isolated`); `onRequest(method, path, headers)` sees each request;
 * `mounts` maps URL prefixes (`/models`) to other directories.
 */
export async function serve(root, { port = 0, host = '127.0.0.1', headers: extra = {}, isolated = false, onRequest, mounts = {} } = {}) {
  const headers = { ...(isolated ? ISOLATION_HEADERS : {}), ...extra };
  const bases = Object.entries(mounts).map(([prefix, dir]) => [prefix.replace(/\/$/, ''), resolve(dir)]);
  bases.sort((a, b) => b[0].length - a[0].length);
  bases.push(['', resolve(root)]);
  const server = createServer(async (req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
    };
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request');
    }
    onRequest?.(req.method, path, req.headers);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    const [prefix, base] = bases.find(([p]) => p === '' || path.startsWith(`${p}/`));
    let file = join(base, normalize(path.slice(prefix.length)));
    if (file !== base && !file.startsWith(base + sep)) return send(403, 'forbidden');
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file);
      }
      if (!info.isFile()) return send(404, 'not found');
      const validators = { ETag: `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`, 'Last-Modified': info.mtime.toUTCString() };
      if (unchanged(req.headers, validators.ETag, info.mtimeMs)) {
        res.writeHead(304, { ...validators, 'Cache-Control': 'no-cache', ...headers });
        return res.end();
      }
      res.writeHead(200, {
        ...validators,
        'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': info.size,
        'Cache-Control': 'no-cache',
        ...headers,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch {
      send(404, 'not found');
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const address = server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
  const close = () =>
    new Promise((ok) => {
      server.closeAllConnections?.();
      server.close(() => ok());
    });
  return { server, url, close };
}

/** Whether a conditional request's `If-None-Match` (else `If-Modified-Since`) says the client holds the file as it is. */
function unchanged(request, etag, mtimeMs) {
  const tags = request['if-none-match'];
  if (tags !== undefined) return tags.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*');
  const since = Date.parse(request['if-modified-since'] ?? '');
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

function parseArgs(argv) {
  const options = { port: 0, host: '127.0.0.1', headers: {}, mounts: {}, isolated: true };
  let root;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--port') options.port = Number(value());
    else if (arg === '--host') options.host = value();
    else if (arg === '--header') {
      const header = value();
      const colon = header.indexOf(':');
      if (colon <= 0) throw new Error(`--header wants 'Name: value', got '${header}'`);
      options.headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
    } else if (arg === '--cors') options.headers['Access-Control-Allow-Origin'] = '*';
    else if (arg === '--no-isolation') options.isolated = false;
    else if (arg === '--mount') {
      const [prefix, dir] = value().split('=');
      if (!prefix?.startsWith('/') || !dir) throw new Error("--mount wants '/prefix=DIR'");
      options.mounts[prefix] = dir;
    } else if (arg === '-h' || arg === '--help') {
      console.log("usage: node scripts/serve.mjs DIR [--port N] [--host H] [--header 'Name: value']... [--cors] [--mount /prefix=DIR]... [--no-isolation]");
      process.exit(0);
    } else if (!root && !arg.startsWith('--')) root = arg;
    else throw new Error(`unknown argument '${arg}'`);
  }
  if (!root) throw new Error('which directory? usage: serve.mjs DIR [--port N] [--header ...]');
  if (!Number.isInteger(options.port) || options.port < 0) throw new Error('--port wants a number');
  return { root, options };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { root, options } = parseArgs(process.argv.slice(2));
    const info = await stat(root).catch(() => null);
    if (!info?.isDirectory()) throw new Error(`${root} is not a directory`);
    const { url, close } = await serve(root, options);
    console.log(`serving ${resolve(root)} at ${url}`);
    const stop = () => close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (e) {
    console.error(`serve: ${e.message}`);
    process.exit(2);
  }
}
