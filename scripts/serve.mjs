#!/usr/bin/env node
// A small static file server for the explorer, the example post and test fixtures.
// Usage: node scripts/serve.mjs --root DIR [--port 8080] [--host 127.0.0.1] [--cors]
//        [--header "Name: value"]... [--mount /prefix=DIR]...
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.txt': 'text/plain; charset=utf-8', '.map': 'application/json',
};

function parseArgs(argv) {
  const options = { root: '.', port: 8080, host: '127.0.0.1', cors: false, headers: {}, mounts: [] };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i];
    switch (argv[i]) {
      case '--root': options.root = value(); break;
      case '--port': options.port = Number(value()); break;
      case '--host': options.host = value(); break;
      case '--cors': options.cors = true; break;
      case '--header': { const [name, ...rest] = value().split(':'); options.headers[name.trim()] = rest.join(':').trim(); break; }
      case '--mount': { const [prefix, dir] = value().split('='); options.mounts.push([prefix.replace(/\/$/, ''), dir]); break; }
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return options;
}

/** Maps a URL path to a file under the longest matching mount, refusing to leave it. */
function resolve(options, urlPath) {
  const decoded = decodeURIComponent(urlPath);
  const mount = options.mounts.filter(([prefix]) => decoded.startsWith(prefix + '/')).sort((a, b) => b[0].length - a[0].length)[0];
  const [prefix, dir] = mount ?? ['', options.root];
  const base = path.resolve(dir);
  const file = path.resolve(base, '.' + decoded.slice(prefix.length));
  if (file !== base && !file.startsWith(base + path.sep)) return null;
  return fs.existsSync(file) && fs.statSync(file).isDirectory() ? path.join(file, 'index.html') : file;
}

export function serve(options) {
  const server = http.createServer((req, res) => {
    const headers = { ...options.headers, 'Cache-Control': 'no-cache' };
    if (options.cors) headers['Access-Control-Allow-Origin'] = '*';
    const file = resolve(options, new URL(req.url, 'http://x').pathname);
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const size = fs.statSync(file).size;
    headers['Content-Type'] = TYPES[path.extname(file)] ?? 'application/octet-stream';
    headers['Content-Length'] = String(size);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end(); else fs.createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(options.port, options.host, () => ok(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const options = parseArgs(process.argv.slice(2));
  await serve(options);
  console.log(`serving ${path.resolve(options.root)} at http://${options.host === '0.0.0.0' ? 'localhost' : options.host}:${options.port}/`);
}
