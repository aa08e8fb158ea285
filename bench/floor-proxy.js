// The floor for a Node proxy, as a baseline measured in the same run as Grid:
// raw node:http + undici Pool.stream, round robin over the backends, no stats,
// no retries, no headers added. (shared/reference/proxy-baseline.md: "raw node
// http + undici Pool.stream".) Usage: PORT=0 BACKENDS=p1,p2 node bench/floor-proxy.js
import * as http from 'node:http';
import { Pool } from 'undici';

const pools = process.env.BACKENDS.split(',').map((p) => new Pool(`http://127.0.0.1:${p}`, { connections: 128 }));
let next = 0;

const server = http.createServer((req, res) => {
  const pool = pools[next++ % pools.length];
  pool.stream({ path: req.url, method: req.method, headers: req.headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req }, ({ statusCode, headers }) => {
    res.writeHead(statusCode, headers);
    return res;
  }, (err) => {
    if (err && !res.headersSent) res.writeHead(502).end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
