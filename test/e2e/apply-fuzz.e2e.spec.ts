// Property-based tests of POST /apply on one real Grid (sim runtime): generated bodies (valid specs,
// FailoverGroups, Kubernetes and Compose forms, their mutations, raw YAML/JSON junk), query strings
// and content types. /apply never answers 5xx; a 4xx names a field or the body; a refused request
// or a dry run changes nothing; an accepted one reads back and re-applies as unchanged.
// Rerun a failure with GRID_FUZZ_SEED=<seed> (printed), run longer with GRID_FUZZ_RUNS=<n>.
import fc from 'fast-check';
import { cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';
import { fuzzSettings, mutatedDocuments, rawBody, validDocuments, yamlOf } from '../utils/spec-arbitraries.js';



const { seed, runs } = fuzzSettings('apply fuzz (e2e)');
const OPTS = { maxReplicas: 2, workloads: ['sim' as const] };

// What each run may change is kept apart from these: a base service and a group over it, settled first.
const BASE = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'base-a', labels: { tier: 'base' } }, spec: { replicas: 1, image: 'local://demo@v1' } };
const BASE_GROUP = { apiVersion: 'v1', kind: 'FailoverGroup', metadata: { name: 'base-g' }, spec: { targets: [{ service: 'base-a' }] } };
/** A valid change to the base: carried in a refused body, it must not be applied. */
const BASE_UPDATE = { ...BASE, spec: { ...BASE.spec, replicas: 2, env: [{ name: 'FUZZ', value: 'changed' }] } };

const QUERIES = ['', '?dryRun=All', '?dryRun=true', '?dryRun=All&dryRun=All', '?dryrun=All', '?dryRun=false', '?dryRun=', '?foo=1', '?dryRun=All&x=1', '?dryRun=%00', '?dryRun=%E0%A4%A', '?%ZZ=1', '?dryRun[]=All', '?dryRun=All%20', '?__proto__=1', '?constructor[x]=1', '?' + 'a'.repeat(3000) + '=1'];
const CONTENT_TYPES = [undefined, 'application/yaml', 'application/json', 'application/json; charset=utf-8', 'application/x-yaml', 'text/yaml; charset=utf-8', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'image/png', 'APPLICATION/JSON', ';;;', 'application/yaml; charset=utf-16'];

let g: GridHandle;

interface Snapshot {
  services: unknown;
  groups: unknown;
  basePods: unknown;
}

async function snapshot(): Promise<Snapshot> {
  const services = (await json<{ services: Array<{ name: string }> }>(`${g.url}/services`)).body.services;
  const details = await Promise.all(services.map(async (s) => (await json(`${g.url}/services/${s.name}`)).body as { name: string; generation: number; revision: number; version: string; spec: unknown; metadata: unknown; history: unknown[] }));
  const groups = (await json<{ groups: Array<Record<string, unknown>> }>(`${g.url}/failover`)).body.groups;
  const state = (await json<{ pods: Array<{ id: string; service: string; revision: number; version: string }> }>(`${g.url}/state`)).body;
  return {
    services: details.map((d) => ({ name: d.name, generation: d.generation, revision: d.revision, version: d.version, spec: d.spec, metadata: d.metadata, history: d.history.length })),
    groups: groups.map((x) => ({ name: x.name, generation: x.generation, targets: x.targets })),
    // Pods' templates: the settled base's pods keep their revision and version.
    basePods: state.pods.filter((p) => p.service === BASE.metadata.name).map((p) => [p.id, p.revision, p.version]).sort(),
  };
}

/** Removes what a run applied and restores the base, so runs stay independent. */
async function reset(): Promise<void> {
  const services = (await json<{ services: Array<{ name: string }> }>(`${g.url}/services`)).body.services;
  const groups = (await json<{ groups: Array<{ name: string }> }>(`${g.url}/failover`)).body.groups;
  for (const x of groups) if (x.name !== BASE_GROUP.metadata.name) expect((await json(`${g.url}/failovergroups/${x.name}`, { method: 'DELETE' })).status).toBe(200);
  for (const s of services) if (s.name !== BASE.metadata.name) expect((await json(`${g.url}/services/${s.name}`, { method: 'DELETE' })).status).toBe(200);
  expect((await post(JSON.stringify([BASE, BASE_GROUP]), '', 'application/json')).status).toBe(200);
  await settled();
}

async function settled(): Promise<void> {
  await expectEventually(async () => {
    const pods = (await json<{ pods: Array<{ service: string }> }>(`${g.url}/state`)).body.pods;
    if (pods.some((p) => p.service !== BASE.metadata.name)) return false;
    return (await readyPods(g, BASE.metadata.name, 1)).length === 1;
  }, 15_000);
}

async function post(body: string | Buffer, query: string, contentType: string | undefined) {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
  return json(`${g.url}/apply${query}`, { method: 'POST', headers, body });
}

type Answer = Awaited<ReturnType<typeof post>>;

/** A 4xx says what is wrong: fields by path, or the body as a whole in its message. */
function expectExplained(r: Answer): void {
  expect(typeof r.body).toBe('object');
  expect(r.body.statusCode).toBe(r.status);
  expect(typeof r.body.message).toBe('string');
  expect(r.body.message.length).toBeGreaterThan(0);
  if (r.body.errors !== undefined) {
    expect(Array.isArray(r.body.errors)).toBe(true);
    expect(r.body.errors.length).toBeGreaterThan(0);
    for (const e of r.body.errors) {
      expect(typeof e.path).toBe('string');
      expect(e.path.length).toBeGreaterThan(0);
      expect(typeof e.message).toBe('string');
    }
  }
}

/** The request's whole story, for a failure message. */
function story(query: string, contentType: string | undefined, body: string | Buffer, r: Answer): string {
  return `POST /apply${query.slice(0, 80)} content-type=${contentType} body=${JSON.stringify(body.toString().slice(0, 300))} → ${r.status} ${JSON.stringify(r.body).slice(0, 600)}`;
}

/** What an accepted apply stored reads back from GET /services/:name and applies again as unchanged. */
async function expectReadBack(r: Answer): Promise<void> {
  const services = (r.body.applied as Array<{ service?: string }>).filter((a) => a.service !== undefined).map((a) => a.service!);
  for (const name of services) {
    const got = await json(`${g.url}/services/${name}`);
    expect(got.status).toBe(200);
    const again = await post(JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: got.body.metadata, spec: got.body.spec }), '', 'application/json');
    if (again.status !== 200 || again.body.applied[0].result !== 'unchanged') throw new Error(`${name} read back did not re-apply as unchanged: ${again.status} ${JSON.stringify(again.body).slice(0, 600)}`);
  }
}

const request = fc.record({
  body: fc.oneof(
    { weight: 3, arbitrary: fc.tuple(validDocuments(OPTS), fc.boolean()).map(([docs, asJson]) => ({ bytes: asJson ? JSON.stringify(docs) : docs.map(yamlOf).join('---\n'), json: asJson, base: false })) },
    { weight: 3, arbitrary: rawBody(OPTS).map((b) => ({ bytes: b.bytes as string | Buffer, json: b.json, base: false })) },
    // All or nothing: a valid change to the base beside a mutated document.
    { weight: 2, arbitrary: fc.tuple(mutatedDocuments(OPTS), fc.boolean()).map(([m, asJson]) => {
        const docs = [BASE_UPDATE, ...m.docs];
        return { bytes: asJson ? JSON.stringify(docs) : docs.map(yamlOf).join('---\n'), json: asJson, base: true };
      }) },
  ),
  query: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('', '?dryRun=All') }, { weight: 2, arbitrary: fc.constantFrom(...QUERIES) }),
  contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
  // Mostly the content type says what the body is, as a client would send it.
  matchType: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

describe('POST /apply (property-based, real Grid)', () => {
  beforeAll(async () => {
    g = await startGrid({ env: { GRID_SIM_START_DELAY_MS: '0', GRID_HPA_SYNC_MS: '600000', GRID_DOCKER_SOCKET: '/nonexistent/grid-fuzz-docker.sock' } });
    await reset();
  });
  afterAll(cleanupAll);

  it('never answers 5xx; a 4xx explains itself; a refused request or a dry run changes nothing; an accepted one reads back', async () => {
    // Printed, so a reader sees the generators reach every outcome rather than only refusals.
    const tally: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(request, async ({ body, query, contentType: ct, matchType }) => {
        const contentType = matchType ? (body.json ? 'application/json' : 'application/yaml') : ct;
        const before = await snapshot();
        const r = await post(body.bytes, query, contentType);
        const tell = () => story(query, contentType, body.bytes, r);
        if (r.status >= 500 || r.status < 200 || (r.status >= 300 && r.status < 400)) throw new Error(`unexpected status: ${tell()}`);
        const dryRun = r.status < 300 && r.body.dryRun === true;
        const outcome = dryRun ? 'dry run' : String(r.status);
        tally[outcome] = (tally[outcome] ?? 0) + 1;
        if (r.status >= 400) {
          try {
            expectExplained(r);
          } catch (e) {
            throw new Error(`${(e as Error).message}\n${tell()}`);
          }
        }
        if (r.status >= 400 || dryRun) {
          const after = await snapshot();
          if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`${dryRun ? 'a dry run' : 'a refused request'} changed state: ${tell()}\nbefore ${JSON.stringify(before).slice(0, 400)}\nafter  ${JSON.stringify(after).slice(0, 400)}`);
          return;
        }
        // Accepted: the same body again is all unchanged, and each service reads back and re-applies unchanged.
        const again = await post(body.bytes, query, contentType);
        const changed = (again.body.applied as Array<{ result: string }> | undefined)?.filter((a) => a.result !== 'unchanged');
        if (again.status !== 200 || changed?.length !== 0) throw new Error(`the same body again was not unchanged: ${story(query, contentType, body.bytes, again)}`);
        await expectReadBack(r);
        await reset();
      }),
      { seed, numRuns: runs(250) },
    );
    console.log(`apply fuzz outcomes: ${JSON.stringify(tally)}`);
  }, 300_000);
});
