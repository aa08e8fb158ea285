import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GridClient, type SseEvent } from './client.js';
import type { Connection } from './config.js';

/** A real HTTP server on 127.0.0.1 whose answers each test sets. */
function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    }),
  );
}

const conn = (url: string, extra: Partial<Connection> = {}): Connection => ({ url, source: 'test', timeoutMs: 2000, ...extra });

describe(GridClient.name, () => {
  it('names the URL and its source when nothing listens', async () => {
    const s = await serve(() => undefined);
    const url = s.url;
    await s.close();
    const sut = new GridClient(conn(url));
    await expect(sut.get('/state')).rejects.toMatchObject({ exitCode: 1, message: `cannot reach Grid at ${url} (from test): connection refused. Is Grid running? Set the address with --server, GRID_URL or a context` });
  });

  it("prints a 400's field errors one per line", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 400, error: 'Bad Request', message: 'x', errors: [{ path: 'spec.replicas', message: 'must be an integer 0..1000 (got -1)' }, { path: 'metadata.name', message: 'required' }] }));
    });
    try {
      await expect(new GridClient(conn(s.url)).post('/apply', { body: 'x', contentType: 'application/yaml' })).rejects.toMatchObject({ status: 400, message: 'spec.replicas: must be an integer 0..1000 (got -1)\nmetadata.name: required' });
    } finally {
      await s.close();
    }
  });

  it('sends an API key as X-API-Key, a user as Basic, and says how to send credentials on a 401', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const s = await serve((req, res) => {
      seen.push(req.headers);
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 401, error: 'Unauthorized', message: 'credentials required' }));
    });
    try {
      await expect(new GridClient(conn(s.url, { apiKey: 'k-123' })).get('/state')).rejects.toThrow(/credentials required \(GET .*\/state\): send credentials with --api-key/);
      await expect(new GridClient(conn(s.url, { user: 'ann', password: 'p:w' })).get('/state')).rejects.toMatchObject({ status: 401 });
      expect(seen[0]['x-api-key']).toBe('k-123');
      expect(seen[0].authorization).toBeUndefined();
      expect(seen[1].authorization).toBe(`Basic ${Buffer.from('ann:p:w').toString('base64')}`);
    } finally {
      await s.close();
    }
  });

  it('returns an accepted error status instead of throwing', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"statusCode":404,"message":"no such service"}');
    });
    try {
      const sut = await new GridClient(conn(s.url)).request('GET', '/services/x', { accept: [404] });
      expect(sut).toMatchObject({ status: 404, data: { message: 'no such service' } });
    } finally {
      await s.close();
    }
  });

  it('gives up at the request timeout, naming it', async () => {
    const s = await serve(() => undefined); // never answers
    try {
      await expect(new GridClient(conn(s.url, { timeoutMs: 200 })).get('/state')).rejects.toThrow(`Grid at ${s.url} (from test) did not answer within 0.2 s (--request-timeout)`);
    } finally {
      await s.close();
    }
  });

  it('parses Server-Sent Events split anywhere, with comments, CRLF and multi-line data', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const wire = ': hello\r\n\r\nid: 1\nevent: pod\ndata: {"a":1}\n\nid: 2\ndata: line one\ndata: line two\n\nevent: end\ndata:\n\n';
      // One byte per write: every boundary the parser could get wrong.
      let i = 0;
      const drip = () => {
        if (i >= wire.length) return res.end();
        res.write(wire[i++]);
        setImmediate(drip);
      };
      drip();
    });
    try {
      const events: SseEvent[] = [];
      await new GridClient(conn(s.url)).stream('/events/stream', undefined, (e) => {
        events.push(e);
      });
      expect(events).toEqual([
        { event: 'pod', id: '1', data: '{"a":1}' },
        { event: 'message', id: '2', data: 'line one\nline two' },
        { event: 'end', id: undefined, data: '' },
      ]);
    } finally {
      await s.close();
    }
  });

  it('ends a stream cleanly when the signal aborts', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
    });
    try {
      const ac = new AbortController();
      const got: string[] = [];
      await new GridClient(conn(s.url)).stream('/x', undefined, (e) => {
        got.push(e.data);
        ac.abort();
      }, ac.signal);
      expect(got).toEqual(['first']);
    } finally {
      await s.close();
    }
  });

  it('refuses . and .. as names instead of letting the URL resolve them to another route', () => {
    const sut = new GridClient(conn('http://127.0.0.1:1'));
    for (const name of ['..', '.', '%2e%2e', '%2E.']) expect(() => sut.url(`/pods/${name}`)).toThrow(/is not a name/);
    expect(sut.url('/pods/web-1')).toBe('http://127.0.0.1:1/pods/web-1');
  });

  it('holds one deadline for the whole answer: a server dripping a byte a second does not reset it', async () => {
    const timers: NodeJS.Timeout[] = [];
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const drip = () => {
        if (res.destroyed) return;
        res.write(' ');
        timers.push(setTimeout(drip, 100));
      };
      drip();
    });
    try {
      const t0 = Date.now();
      await expect(new GridClient(conn(s.url, { timeoutMs: 500 })).get('/services')).rejects.toThrow('did not answer within 0.5 s');
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      timers.forEach(clearTimeout);
      await s.close();
    }
  });

  it('ends a stream whose event grows past the cap with one line, not an out-of-memory crash', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const line = `data: ${'x'.repeat(64 * 1024)}\n`;
      let n = 0;
      const pump = () => {
        while (n < 40 && res.write(line)) n++;
        if (n < 40) res.once('drain', pump);
      };
      pump();
    });
    try {
      await expect(new GridClient(conn(s.url)).stream('/events/stream', undefined, () => undefined)).rejects.toThrow(/an event larger than 1048576 bytes/);
    } finally {
      await s.close();
    }
  });
});
