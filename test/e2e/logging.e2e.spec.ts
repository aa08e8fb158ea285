// Grid's own log output as a file or a log shipper sees it: through a pipe, never a TTY.
import { cleanupAll, startGrid } from '../utils/grid.js';

const LISTENING = /^Grid listening on http:\/\/\S+$/;

/** Starts Grid, stops it (so the SIGTERM line is logged too) and returns every output line. */
async function linesOf(env: Record<string, string>): Promise<string[]> {
  const g = await startGrid({ env });
  const code = await g.stop();
  expect({ code, signal: g.proc.signalCode, output: code === 0 ? '' : g.output() }).toEqual({ code: 0, signal: null, output: '' });
  return g.output().split('\n').filter((l) => l !== '');
}

describe('log output', () => {
  afterAll(cleanupAll);

  it('writes plain text without colour codes to a pipe, and keeps the route table out of the default level', async () => {
    const lines = await linesOf({ GRID_LOG_LEVEL: 'log' });
    expect(lines[0]).toMatch(LISTENING);
    expect(lines.some((l) => /LOG \[Grid\] SIGTERM: stopping/.test(l))).toBe(true);
    expect(lines.filter((l) => l.includes('\x1b['))).toEqual([]);
    expect(lines.filter((l) => /RoutesResolver|RouterExplorer|InstanceLoader/.test(l))).toEqual([]);
  });

  it('GRID_LOG_FORMAT=json writes one {time, level, context, message} object per line; the route table is at debug', async () => {
    const lines = await linesOf({ GRID_LOG_FORMAT: 'json', GRID_LOG_LEVEL: 'debug' });
    // The one plain line: tests and scripts wait for it.
    const records = lines.filter((l) => !LISTENING.test(l));
    expect(records.length).toBe(lines.length - 1);
    expect(lines.filter((l) => l.includes('\x1b'))).toEqual([]);
    const parsed = records.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
    for (const r of parsed) {
      expect(r).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), context: expect.any(String), message: expect.anything() }));
      expect(new Date(r.time as string).toISOString()).toBe(r.time);
    }
    expect(parsed).toContainEqual(expect.objectContaining({ level: 'debug', context: 'RouterExplorer', message: 'Mapped {/apply, POST} route' }));
    expect(parsed).toContainEqual(expect.objectContaining({ level: 'log', context: 'Grid', message: expect.stringContaining('SIGTERM: stopping') }));
  });
});
