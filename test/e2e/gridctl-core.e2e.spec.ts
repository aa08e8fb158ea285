// gridctl's own behaviour, whatever the command: where it connects, what it prints to a
// terminal when the server is hostile, and exit codes. The real CLI as a child process.
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cliHome, gridctl, GRIDCTL } from '../utils/cli.js';

/** A server on 127.0.0.1 that answers every request with `status` and `body`. */
function hostile(status: number, body: unknown): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      }),
    ),
  );
}

/** Runs gridctl with a terminal as stdout and stderr (util-linux script), returns everything the terminal got. */
function onTerminal(args: string[], env: Record<string, string>): Promise<string> {
  const line = [process.execPath, GRIDCTL, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', line, '/dev/null'], { env: { PATH: process.env.PATH!, HOME: cliHome(), TERM: 'xterm', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

describe('gridctl core', () => {
  it.each(['http', 'https'])('names the URL and where it came from when nothing listens (%s)', async (scheme) => {
    const r = await gridctl(['get', 'pods'], { env: { GRID_URL: `${scheme}://127.0.0.1:1` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: cannot reach Grid at ${scheme}://127.0.0.1:1 (from GRID_URL): connection refused. Is Grid running? Set the address with --server, GRID_URL or a context\n`);
  });

  it('exits 2 on usage errors and with no command, 0 for --help and --version', async () => {
    expect((await gridctl([])).code).toBe(2);
    expect((await gridctl(['frobnicate'])).code).toBe(2);
    expect((await gridctl(['get', 'pods', '--bogus'])).code).toBe(2);
    expect(await gridctl(['--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    expect((await gridctl(['get', '--help'])).code).toBe(0);
  });

  it('refuses a password in the URL without printing it', async () => {
    const r = await gridctl(['get', 'pods'], { env: { GRID_URL: 'http://admin:s3cret@127.0.0.1:1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('GRID_URL: no user or password in the URL');
    expect(r.stderr).not.toContain('s3cret');
  });

  it("shows a hostile server's escape sequences escaped on a terminal, keeping its own colour", async () => {
    const evil = '\u001b]0;PWNED\u0007\u001b[2J\u009b31mgotcha\rspoof';
    const s = await hostile(400, { statusCode: 400, message: evil, errors: [{ path: `spec${evil}`, message: evil }] });
    try {
      const out = await onTerminal(['get', 'pods'], { GRID_URL: s.url });
      expect(out).toContain('\\x1b]0;PWNED\\x07\\x1b[2J\\x9b31mgotcha\\x0dspoof');
      // The only escape sequences left are gridctl's red "error:".
      expect(out.replace(/\u001b\[31merror:\u001b\[39m/g, '')).not.toMatch(/[\u001b\u0007\u009b]/);
      expect(out).toContain('\u001b[31merror:\u001b[39m');
    } finally {
      await s.close();
    }
  });

  it('prints no colour with NO_COLOR, even on a terminal', async () => {
    const out = await onTerminal(['get', 'pods'], { GRID_URL: 'http://127.0.0.1:1', NO_COLOR: '1' });
    expect(out).toContain('error: cannot reach Grid');
    expect(out).not.toContain('\u001b[');
  });
});
