// One active health check over HTTP: the I/O edge of the failover module. What
// counts as a pass is decided by judge(), pure, so it is tested without a server.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { FailoverHealthCheck, StatusRange } from '../specs/spec.types.js';
import type { Observation } from './failover-machine.js';

/** More body than a health answer needs is not read (the check fails as not matching expectJson, if one is set). */
const MAX_BODY = 64 * 1024;

export function statusText(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)).join(', ');
}

/** Whether `body` holds every key of `expected` with an equal value (objects compared key by key, recursively). */
export function containsJson(body: unknown, expected: unknown): boolean {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
    return Object.entries(expected).every(([k, v]) => Object.hasOwn(body, k) && containsJson((body as Record<string, unknown>)[k], v));
  }
  return JSON.stringify(body) === JSON.stringify(expected);
}

/** The verdict on an answer that arrived: status, then latency, then body, the first problem found is the one reported. */
export function judge(hc: FailoverHealthCheck, status: number, latencyMs: number, body: string | undefined): Observation {
  const latency = Math.round(latencyMs * 10) / 10;
  const fail = (problem: string): Observation => ({ ok: false, status, latencyMs: latency, problem });
  if (!hc.expectStatus.some((r) => status >= r.min && status <= r.max)) return fail(`HTTP ${status} (expected ${statusText(hc.expectStatus)})`);
  if (hc.maxLatencyMs !== undefined && latencyMs > hc.maxLatencyMs) return fail(`latency ${Math.round(latencyMs)} ms above maxLatencyMs ${hc.maxLatencyMs}`);
  if (hc.expectJson !== undefined) {
    let parsed: unknown;
    try {
      parsed = body === undefined ? undefined : JSON.parse(body);
    } catch {
      return fail(`HTTP ${status} with a body that is not JSON (expected it to contain ${JSON.stringify(hc.expectJson)})`);
    }
    if (!containsJson(parsed, hc.expectJson)) return fail(`HTTP ${status} with a body that does not contain ${JSON.stringify(hc.expectJson)}`);
  }
  return { ok: true, status, latencyMs: latency };
}

/**
 * Runs health checks over one keep-alive agent. No cap on connections per origin: every
 * service target is checked through Grid's own origin, and with a cap one slow health
 * endpoint held the connections every other group's checks queued for (their timeouts ran
 * while queued: false failovers). Each target has at most one check in flight, so the
 * connections are bounded by the number of targets.
 */
export class HealthChecker {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000 });

  async check(url: string, hc: FailoverHealthCheck): Promise<Observation> {
    const timeoutMs = Math.round(hc.timeoutSeconds * 1000);
    const started = performance.now();
    try {
      const res = await request(url, {
        dispatcher: this.agent,
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': 'grid-failover-check' },
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      let body: string | undefined = '';
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY) {
          body = undefined;
          res.body.destroy();
          break;
        }
        chunks.push(chunk as Buffer);
      }
      if (body !== undefined) body = Buffer.concat(chunks).toString('utf8');
      return judge(hc, res.statusCode, performance.now() - started, body);
    } catch (e) {
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      const err = e as Error & { code?: string };
      const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError' || err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT';
      const cause = (err.cause as { code?: string } | undefined)?.code;
      return { ok: false, latencyMs, problem: timedOut ? `no answer within timeoutSeconds (${timeoutMs} ms)` : `connection failed: ${err.code ?? cause ?? err.message}` };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
