// Loaded into Grid by bench/hostile.js (`node --import`; .mjs so that bench/run.js does not take it for a benchmark): Grid's event-loop delay, sampled every
// 10 ms and reported every 250 ms on stderr, so that a phase's latency can be told apart from a
// blocked event loop. Not part of Grid.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
setInterval(() => {
  // Milliseconds: a loop stuck for longer than the window shows as one late sample of that length.
  process.stderr.write(`grid-eld ${Date.now()} ${(h.max / 1e6).toFixed(1)}\n`);
  h.reset();
}, 250).unref();
