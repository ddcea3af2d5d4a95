#!/usr/bin/env node
// A local stand-in for the model hub, for tests/fetch-model.test.sh: serves the files of a folder
// over HTTP with byte ranges, and misbehaves on request like a real network or server can.
//
// Usage: node tests/mirror-server.mjs DIR
// Prints "serving DIR at http://127.0.0.1:PORT/" once listening, then one line per request:
//   GET /path range=bytes=N- -> 206
// Faults: PUT /__faults with a JSON body replaces them (and resets their counters):
//   {"cut": {"path": "/a/b", "afterBytes": N, "times": T}}  the next T responses for /a/b stop
//                                                           after N body bytes (connection dropped)
//   {"ignoreRange": true}                                   answer every request with the whole file
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, normalize, resolve, sep } from 'node:path';

const root = process.argv[2] && resolve(process.argv[2]);
if (!root || !(await stat(root).catch(() => null))?.isDirectory()) {
  console.error('usage: node tests/mirror-server.mjs DIR');
  process.exit(2);
}

let faults = {};
let cutsLeft = 0;

/** Parses a single `bytes=START-[END]` range against a file of `size` bytes; null if absent or unsupported. */
function parseRange(header, size) {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!match) return null;
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return { start, end };
}

async function setFaults(req, res) {
  let body = '';
  for await (const chunk of req) body += chunk;
  try {
    faults = JSON.parse(body || '{}');
  } catch {
    res.writeHead(400).end('bad json\n');
    return;
  }
  cutsLeft = faults.cut?.times ?? 0;
  res.writeHead(204).end();
}

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  if (req.method === 'PUT' && path === '/__faults') return setFaults(req, res);
  const log = (status) => console.log(`${req.method} ${path} range=${req.headers.range ?? '-'} -> ${status}`);
  const fail = (status, text) => {
    log(status);
    res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`${text}\n`);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'method not allowed');
  const file = join(root, normalize(path));
  if (!file.startsWith(root + sep)) return fail(403, 'forbidden');
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return fail(404, 'not found');

  const size = info.size;
  const range = faults.ignoreRange ? null : parseRange(req.headers.range, size);
  if (range && range.start >= size) {
    log(416);
    return res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const status = range ? 206 : 200;
  const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' };
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  log(status);
  res.writeHead(status, headers);
  if (req.method === 'HEAD') return res.end();
  const cut = faults.cut?.path === path && cutsLeft > 0;
  if (cut) cutsLeft--;
  const last = cut ? Math.min(end, start + faults.cut.afterBytes - 1) : end;
  const stream = createReadStream(file, { start, end: last });
  stream.on('error', () => res.destroy());
  // A cut response has promised more bytes than it sends: close the connection once those
  // bytes are flushed, as a dropped network connection would.
  if (cut) stream.on('end', () => res.socket?.end());
  stream.pipe(res, { end: !cut });
});

server.listen(0, '127.0.0.1', () => {
  console.log(`serving ${root} at http://127.0.0.1:${server.address().port}/`);
});
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
