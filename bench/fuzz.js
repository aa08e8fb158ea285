// Differential fuzzing of the gateway's HTTP/1.1 parser (dist/modules/gateway/wire.js)
// against llhttp, a million cases: the long run of src/modules/gateway/wire.fuzz.spec.ts.
//
//   node bench/fuzz.js                       1,000,000 cases (half requests, half responses) on 2 workers
//   node bench/fuzz.js --cases=200000 --seed=7 --workers=1
//   FUZZ_SEED=7 node bench/fuzz.js           the seed from the environment (as the spec takes it)
//
// Each worker runs its own seed (seed, seed+1, ...). A disagreement prints its bytes and
// FUZZ_SEED/FUZZ_CASE to replay it with the spec; the run then exits 1 (a crash, not a missed target).
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ROOT, fmt, gitInfo, mdTable, parseArgs, writeResults } from './lib.js';

const HARNESS = pathToFileURL(path.join(ROOT, 'dist/modules/gateway/wire.fuzz.js')).href;
/** Pairs per message to the main thread: progress without chatter. */
const BATCH = 10_000;

if (!isMainThread) {
  const { fuzz, describeDisagreement } = await import(HARNESS);
  const { seed, pairs } = workerData;
  // One seed's sequence in batches: batch b runs seed*1000+b, so any batch replays with FUZZ_SEED alone.
  for (let done = 0, b = 0; done < pairs; b++) {
    const n = Math.min(BATCH, pairs - done);
    const batchSeed = seed * 1000 + b;
    const r = fuzz(batchSeed, n, 5);
    done += n;
    parentPort.postMessage({ ...r, disagreements: r.disagreements.map((d) => describeDisagreement(d, batchSeed)) });
  }
} else {
  const args = parseArgs();
  const cases = Number(args.cases ?? 1_000_000);
  const seed = Number(args.seed ?? process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  const workers = Number(args.workers ?? 2);
  const pairsPerWorker = Math.ceil(cases / 2 / workers);
  const total = { cases: 0, requestsAccepted: 0, requestsFellBack: 0, responsesPassed: 0, responsesRefused: 0, disagreements: [] };
  const t0 = performance.now();
  let lastReport = t0;
  process.stdout.write(`fuzz: ${cases} cases, seed ${seed}, ${workers} worker(s)\n`);
  await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { seed: seed + w, pairs: pairsPerWorker } });
      worker.on('message', (r) => {
        for (const k of ['cases', 'requestsAccepted', 'requestsFellBack', 'responsesPassed', 'responsesRefused']) total[k] += r[k];
        total.disagreements.push(...r.disagreements);
        for (const d of r.disagreements) process.stdout.write(d + '\n');
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          process.stdout.write(`  ${total.cases} cases, ${fmt(total.cases / ((lastReport - t0) / 1000), 0)}/s, ${total.disagreements.length} disagreements\n`);
        }
      });
      return new Promise((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fuzz worker ${w} exited ${code}`))));
      });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const rate = total.cases / seconds;
  const half = total.cases / 2;
  const pct = (n) => `${fmt((100 * n) / half, 1)} %`;
  const json = { git: gitInfo(), seed, workers, ...total, seconds, casesPerSecond: rate };
  const md = [
    '# Gateway parser differential fuzz (wire.ts vs llhttp)',
    '',
    `Seed ${seed}, ${workers} worker(s). A disagreement prints FUZZ_CASE=<n>: \`FUZZ_CASE=<n> npx jest src/modules/gateway/wire.fuzz.spec.ts\` replays it.`,
    '',
    mdTable(
      ['cases', 'seconds', 'cases/s', 'requests parsed', 'requests handed to Node', 'responses passed on', 'responses refused', 'disagreements'],
      [[total.cases, fmt(seconds, 1), fmt(rate, 0), pct(total.requestsAccepted), pct(total.requestsFellBack), pct(total.responsesPassed), pct(total.responsesRefused), total.disagreements.length]],
    ),
    '',
    total.disagreements.length === 0 ? 'PASS: wire.ts agreed with llhttp or declined on every case.' : `FAIL: ${total.disagreements.length} disagreements (printed above).`,
  ].join('\n');
  const files = writeResults('fuzz', json, md);
  process.stdout.write(`${md}\n\nresults: ${files.md}\n`);
  if (total.disagreements.length > 0) process.exit(1);
}
