// Issue 9 end to end: node capacity (GRID_MAX_PODS) and paced starts, with real processes.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyYaml, cleanupAll, expectEventually, json, podsOf, readyPods, sameProcess, startGrid, type GridHandle } from '../utils/grid.js';

interface PodWithMessage {
  id: string;
  state: string;
  ready: boolean;
  pid: number | null;
  message: string | null;
}

function webSpec(replicas: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  replicas: ${replicas}
  command: ["node", "demo-services/versioned/server.js"]
  env:
    - { name: VERSION, value: v1 }
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1 }
  terminationGracePeriodSeconds: 3
`;
}

/** python3's http.server holds ~20 MB against ~45 MB for a node server: 200 of them fit beside other people's tests. */
function lightSpec(replicas: number, dir: string): string {
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  return `apiVersion: v1
kind: Service
metadata: { name: light }
spec:
  replicas: ${replicas}
  command: [${JSON.stringify(python)}, "-m", "http.server", "--bind", "127.0.0.1", "--directory", ${JSON.stringify(dir)}, "$(PORT)"]
  readinessProbe: { httpGet: { path: / } }
  terminationGracePeriodSeconds: 5
`;
}

async function podsWithMessage(g: GridHandle, service: string): Promise<PodWithMessage[]> {
  return (await podsOf(g, service)) as unknown as PodWithMessage[];
}

describe('admission: node capacity and paced starts', () => {
  afterAll(cleanupAll);

  it('runs 5 of 8 pods at GRID_MAX_PODS=5, shows the other 3 Pending with the reason, and runs them all when scaled to 4', async () => {
    const g = await startGrid({ env: { GRID_MAX_PODS: '5' } });
    try {
      expect((await applyYaml(g, webSpec(8))).status).toBe(200);

      const pods = await expectEventually(async () => {
        const all = await podsWithMessage(g, 'web');
        return all.length === 8 && all.filter((p) => p.ready).length === 5 ? all : undefined;
      }, 20000);
      const waiting = pods!.filter((p) => !p.ready);
      expect(waiting.map((p) => [p.state, p.message, p.pid])).toEqual(Array(3).fill(['Pending', 'Unschedulable: node full, 5 of 5 pods', null]));
      const detail = (await json<{ pods: PodWithMessage[] }>(`${g.url}/services/web`)).body;
      expect(detail.pods.filter((p) => p.state === 'Pending').map((p) => p.message)).toEqual(Array(3).fill('Unschedulable: node full, 5 of 5 pods'));
      const events = (await json<{ events: { pod: string }[] }>(`${g.url}/events?service=web&type=pod.unschedulable`)).body.events;
      expect(events.map((e) => e.pod).sort()).toEqual(waiting.map((p) => p.id).sort());
      const served = new Set<string | null>();
      for (let i = 0; i < 10; i++) {
        const r = await fetch(`${g.url}/gateway/web/version`);
        await r.arrayBuffer();
        expect(r.status).toBe(200);
        served.add(r.headers.get('x-grid-pod'));
      }
      expect(served.size).toBe(5);
      expect(waiting.filter((p) => served.has(p.id))).toEqual([]);

      expect((await applyYaml(g, webSpec(4))).status).toBe(200);

      const four = await expectEventually(() => readyPods(g, 'web', 4), 20000);
      expect(four.every((p) => typeof p.pid === 'number')).toBe(true);
      // The 4 scaled away (3 that waited, 1 that ran) leave the list once stopped.
      await expectEventually(async () => (await podsWithMessage(g, 'web')).length === 4, 10000);
      expect((await podsWithMessage(g, 'web')).map((p) => [p.state, p.message])).toEqual(Array(4).fill(['Ready', null]));
    } finally {
      await g.stop();
    }
  }, 60000);

  // The latency target (p99 < 100 ms) is a benchmark's: npm run bench -- admission. Here, the behaviour: Grid
  // answers every poll while 200 pods start (unpaced, most polls waited more than 5 s), and every process goes on delete.
  it('answers /healthz throughout while 200 process pods start, and stops every one of them on delete', async () => {
    const www = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-e2e-www-'));
    const g = await startGrid({ env: { GRID_MAX_PODS: '300' } });
    try {
      const r = await pollingStart(g, www);

      expect(r.failures).toEqual([]);
      expect(r.polls).toBeGreaterThan(100);
    } finally {
      await g.stop();
      fs.rmSync(www, { recursive: true, force: true });
    }
  }, 180000);
});

/**
 * Applies 200 light pods while polling /healthz every 20 ms (5 s timeout each) until all are
 * Ready (bounded), then deletes them and waits until every process is gone.
 */
async function pollingStart(g: GridHandle, www: string) {
  const latencies: number[] = [];
  const failures: string[] = [];
  let polling = true;
  const inFlight = new Set<Promise<void>>();
  // A poll every 20 ms whatever the answers do, so a stalled Grid shows up as slow polls rather than as fewer of them.
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      const p = fetch(`${g.url}/healthz`, { signal: AbortSignal.timeout(5000) })
        .then(async (r) => {
          await r.arrayBuffer();
          if (r.status === 200) latencies.push(performance.now() - t0);
          else failures.push(`HTTP ${r.status}`);
        })
        .catch((e: Error) => void failures.push(e.message))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(inFlight);
  })();
  let pids: number[] = [];
  try {
    expect((await applyYaml(g, lightSpec(200, www))).status).toBe(200);
    pids = (await expectEventually(() => readyPods(g, 'light', 200), 60000, 250)).map((p) => p.pid!);
  } finally {
    polling = false;
    await poller;
  }
  expect(pids.every((pid) => sameProcess(pid, null))).toBe(true);

  expect((await json(`${g.url}/services/light`, { method: 'DELETE' })).status).toBe(200);
  await expectEventually(async () => (await podsOf(g, 'light')).length === 0 && pids.every((pid) => !sameProcess(pid, null)), 30000, 100);
  return { polls: latencies.length, failures };
}
