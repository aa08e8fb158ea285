// Chaos: every running experiment (gateway faults, paused pods; started over the API or by a
// rollout's chaos step) with its time left and a Stop button, the badge a service card shows for
// its own, and the two forms that start one from a card. The list is the store's (GET
// /chaos/experiments); the countdowns tick on this page between reads.
import { useEffect, useRef, useState } from 'preact/hooks';
import { act } from '../lib/actions.js';
import type { FieldError } from '../lib/api.js';
import { countdownText, experimentSettings, secondsLeftNow, type ExperimentView } from '../lib/chaos-model.js';
import { useStore } from '../lib/store.js';
import { useCanAct, useNow } from './hooks.js';

const enc = encodeURIComponent;

function useExperiments(service?: string): { list: readonly ExperimentView[]; at: number; loaded: boolean } {
  const ex = useStore((s) => s.experiments);
  const list = ex ? (service === undefined ? ex.list : ex.list.filter((e) => e.service === service)) : [];
  return { list, at: ex?.at ?? 0, loaded: ex !== null };
}

function stop(e: ExperimentView) {
  return act(`stop ${e.kind} experiment ${e.id} on ${e.service}`, 'DELETE', `/chaos/experiments/${enc(e.id)}`);
}

export function ChaosView() {
  const { list, at, loaded } = useExperiments();
  const now = useNow(list.length > 0);
  const { canAct, why } = useCanAct();
  return (
    <section class="panel chaos-view" aria-labelledby="chaos-h">
      <h2 id="chaos-h">Running chaos experiments</h2>
      <p class="muted">
        Faults the gateway injects and pods frozen on purpose, started over the API (an operator) or by a rollout's chaos step. Each ends on its own when its time is up; Stop ends it now. Start one from a
        service card: <em>Inject faults…</em> or <em>Pause a pod…</em>.
      </p>
      {!loaded ? (
        <p class="muted">Loading experiments…</p>
      ) : list.length === 0 ? (
        <p class="muted" data-testid="chaos-empty">
          No experiment is running.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="chaos-table">
            <thead>
              <tr>
                <th scope="col">kind</th>
                <th scope="col">service</th>
                <th scope="col">version</th>
                <th scope="col">pods</th>
                <th scope="col">settings</th>
                <th scope="col">origin</th>
                <th scope="col">time left</th>
                <th scope="col">
                  <span class="sr-only">stop</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => (
                <tr key={e.id} data-testid="experiment" data-experiment={e.id} data-kind={e.kind} data-service={e.service}>
                  <td>
                    <span class="badge chaos">{e.kind}</span> <span class="mono muted">{e.id}</span>
                  </td>
                  <td>{e.service}</td>
                  <td>{e.version ?? <span class="muted">all</span>}</td>
                  <td class="mono">{e.pods?.length ? e.pods.join(', ') : <span class="muted">—</span>}</td>
                  <td data-testid="experiment-settings">{experimentSettings(e)}</td>
                  <td title={e.origin === 'rollout' ? "started by a rollout's chaos step" : 'started over the API'}>{e.origin}</td>
                  <td class="num" data-testid="time-left">
                    {countdownText(secondsLeftNow(e.secondsLeft, at, now))}
                  </td>
                  <td>
                    <button type="button" class="danger" data-testid="experiment-stop" disabled={!canAct} title={why} onClick={() => stop(e)} aria-label={`stop ${e.kind} experiment ${e.id} on ${e.service}`}>
                      Stop
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A service card's badge per running experiment, with its time left; it links to the Chaos view. */
export function ChaosBadges({ service }: { service: string }) {
  const { list, at } = useExperiments(service);
  const now = useNow(list.length > 0);
  return (
    <>
      {list.map((e) => (
        <a key={e.id} href="#/chaos" class="badge chaos" data-testid="chaos-badge" data-kind={e.kind} title={`${e.kind} experiment ${e.id}: ${experimentSettings(e)}${e.version ? ` on ${e.version}` : ''} (${e.origin})`}>
          ⚡ {e.kind} · {countdownText(secondsLeftNow(e.secondsLeft, at, now))}
        </a>
      ))}
    </>
  );
}

interface Field {
  name: string;
  label: string;
  hint: string;
  min: number;
  max: number;
  step?: number;
}

const FAULT_FIELDS: Field[] = [
  { name: 'abortPercent', label: 'Abort %', hint: 'share of requests the gateway answers itself', min: 0, max: 100, step: 0.01 },
  { name: 'abortStatus', label: 'Abort status', hint: 'default 503', min: 400, max: 599 },
  { name: 'delayMs', label: 'Delay ms', hint: 'how long a delayed request is held', min: 1, max: 60_000 },
  { name: 'delayPercent', label: 'Delay %', hint: 'share of requests held', min: 0, max: 100, step: 0.01 },
  { name: 'durationSeconds', label: 'Duration s', hint: 'default 60, at most 3600', min: 1, max: 3600 },
];

const PAUSE_FIELDS: Field[] = [
  { name: 'count', label: 'Pods', hint: 'running pods to freeze, Ready ones first', min: 1, max: 1000 },
  { name: 'seconds', label: 'Seconds', hint: 'default 10, at most 600', min: 1, max: 600 },
];

/**
 * "Inject faults…" or "Pause a pod…" for one service: a modal form whose 400s are shown beside the
 * field they name (and those naming no field of the form above it); it closes once Grid started it.
 */
export function ChaosForm({ kind, service, onClose }: { kind: 'faults' | 'pause'; service: string; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    ref.current?.showModal();
    return () => opener?.focus();
  }, []);
  const fields = kind === 'faults' ? FAULT_FIELDS : PAUSE_FIELDS;
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const values: Record<string, number> = {};
    // Empty fields are left out: Grid fills its defaults.
    for (const x of fields) {
      const v = String(f.get(x.name) ?? '').trim();
      if (v !== '') values[x.name] = Number(v);
    }
    const version = String(f.get('version') ?? '').trim() || undefined;
    setBusy(true);
    const r =
      kind === 'faults'
        ? await act(`inject faults into ${service}`, 'POST', '/chaos/faults', { body: { service, ...(version ? { version } : {}), ...values } })
        : await act(`pause pods of ${service}`, 'POST', '/chaos/pause', { query: { service, version, ...values } });
    setBusy(false);
    if (r.ok) onClose();
    else setErrors(r.error?.errors.length ? r.error.errors : [{ path: '', message: r.error?.message ?? 'refused' }]);
  };
  const known = new Set([...fields.map((x) => x.name), 'version']);
  const general = errors.filter((e) => !known.has(e.path));
  const errorOf = (name: string) => errors.find((e) => e.path === name)?.message;
  const title = kind === 'faults' ? `Inject faults into ${service}` : `Pause pods of ${service}`;
  return (
    <dialog ref={ref} class="dialog chaos-form" data-testid={`chaos-form-${kind}`} aria-labelledby="chaos-form-h" onCancel={(e) => (e.preventDefault(), onClose())}>
      <form onSubmit={submit} noValidate>
        <h2 id="chaos-form-h">{title}</h2>
        <p class="muted">
          {kind === 'faults'
            ? 'The gateway aborts or delays exact shares of its requests (at least one share above 0), counted apart from real ones; it ends on its own.'
            : 'Freezes running pods (SIGSTOP; docker pause), as a hung process: a liveness probe should catch it and Grid restart it. Process and docker services only.'}
        </p>
        {general.length > 0 && (
          <ul class="error error-list" role="alert" data-testid="chaos-form-error">
            {general.map((e) => (
              <li key={e.path + e.message}>{e.path ? `${e.path}: ${e.message}` : e.message}</li>
            ))}
          </ul>
        )}
        <div class="chaos-fields">
          {[...fields, { name: 'version', label: 'Version', hint: 'only this version (a canary), else all', min: 0, max: 0 }].map((x) => {
            const err = errorOf(x.name);
            const id = `chaos-${kind}-${x.name}`;
            return (
              <label key={x.name}>
                {x.label}
                {x.name === 'version' ? (
                  <input id={id} name="version" data-testid={`chaos-field-version`} placeholder="all versions" aria-invalid={!!err} aria-describedby={`${id}-help`} />
                ) : (
                  <input id={id} name={x.name} type="number" inputMode="decimal" min={x.min} max={x.max} step={x.step ?? 1} data-testid={`chaos-field-${x.name}`} aria-invalid={!!err} aria-describedby={`${id}-help`} />
                )}
                <span id={`${id}-help`} class={err ? 'error' : 'hint'} data-testid={err ? `chaos-error-${x.name}` : undefined}>
                  {err ?? x.hint}
                </span>
              </label>
            );
          })}
        </div>
        <div class="row end">
          <button type="button" data-testid="chaos-form-cancel" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary danger" data-testid="chaos-form-submit" disabled={busy}>
            {busy ? 'Starting…' : kind === 'faults' ? 'Inject faults' : 'Pause'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
