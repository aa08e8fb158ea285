// The audit trail, newest first, with filters and paging by cursor; Verify recomputes the hash chain.
import { useEffect, useState } from 'preact/hooks';
import { get, ApiError } from '../lib/api.js';
import { parseSince } from '../lib/event-filter.js';
import { actorParts, clockTime } from '../lib/format.js';
import type { AuditEntry as Entry } from '../../common/api/types.js';

interface Page {
  entries: Entry[];
  nextCursor: number | null;
}
interface Verification {
  ok: boolean;
  checked: number;
  firstBroken?: { id: number; reason: string; detail?: string };
}

const PAGE = 50;

export function AuditView() {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const [sinceText, setSinceText] = useState('');
  const [entries, setEntries] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [verify, setVerify] = useState<Verification | { error: string } | null>(null);

  const query = (c?: number) => ({ actor, action, target, since: parseSince(sinceText, Date.now()) ?? undefined, limit: PAGE, cursor: c });
  const load = async (more: boolean) => {
    setBusy(true);
    try {
      const page = await get<Page>('/audit', query(more ? (cursor ?? undefined) : undefined));
      setEntries((prev) => (more ? [...prev, ...page.entries] : page.entries));
      setCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    const t = setTimeout(() => void load(false), 300);
    return () => clearTimeout(t);
  }, [actor, action, target, sinceText]);

  const runVerify = async () => {
    setVerify(null);
    try {
      setVerify(await get<Verification>('/audit/verify'));
    } catch (e) {
      setVerify({ error: (e as Error).message });
    }
  };

  return (
    <section aria-labelledby="audit-h">
      <div class="row">
        <h2 id="audit-h">Audit trail</h2>
        <button type="button" class="primary push" data-testid="audit-verify" onClick={runVerify}>
          Verify chain
        </button>
        <button type="button" onClick={() => load(false)} disabled={busy}>
          Refresh
        </button>
      </div>
      {verify && (
        <p class={`verify ${'error' in verify ? 'error' : verify.ok ? 'ok' : 'error'}`} data-testid="audit-verify-result" role="status">
          {'error' in verify
            ? `Could not verify: ${verify.error}`
            : verify.ok
              ? `✓ Chain intact: ${verify.checked} entries checked, each holds its predecessor's hash.`
              : `✗ Chain broken at entry #${verify.firstBroken?.id} (${verify.firstBroken?.reason}${verify.firstBroken?.detail ? `: ${verify.firstBroken.detail}` : ''}); ${verify.checked} entries checked.`}
        </p>
      )}
      <form class="filters" role="search" aria-label="Filter the audit trail" onSubmit={(e) => (e.preventDefault(), void load(false))}>
        <label>
          Actor
          <input data-testid="audit-filter-actor" value={actor} onInput={(e) => setActor(e.currentTarget.value)} placeholder="e.g. admin" />
        </label>
        <label>
          Action
          <input data-testid="audit-filter-action" value={action} onInput={(e) => setAction(e.currentTarget.value.trim())} placeholder="e.g. apply" list="audit-actions" />
          <datalist id="audit-actions">
            {['apply', 'scale', 'chaos.kill', 'service.delete', 'rollout.promote', 'rollout.abort', 'failover.switch', 'auth.refused'].map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label>
          Target
          <input data-testid="audit-filter-target" value={target} onInput={(e) => setTarget(e.currentTarget.value)} placeholder="e.g. web" />
        </label>
        <label>
          <span>
            Since <span class="hint">15m, 2h or a time</span>
          </span>
          <input value={sinceText} onInput={(e) => setSinceText(e.currentTarget.value)} placeholder="e.g. 1h" />
        </label>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="audit-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Status</th>
              <th scope="col">Summary</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => {
              const who = actorParts(e.actor, e.actorKind);
              return (
                <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                  <td class="num">{e.id}</td>
                  <td class="num">
                    <time dateTime={new Date(e.time).toISOString()} title={new Date(e.time).toLocaleString([], { hour12: false })}>
                      {clockTime(e.time)}
                    </time>
                  </td>
                  <td>
                    {who.name} {who.kind && <span class="muted small">{who.kind}</span>}
                  </td>
                  <td class="mono">{e.action}</td>
                  <td>{e.target ?? '—'}</td>
                  <td class={`num ${e.status === null ? 'muted' : e.status >= 400 ? 'error' : 'ok'}`}>{e.status ?? 'Grid'}</td>
                  <td class="muted">{e.summary}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {entries.length === 0 && !busy && !error && (
        <p class="muted">{actor || action || target || sinceText ? 'No entries match these filters.' : 'Nothing audited yet: changes made from this page or the API appear here.'}</p>
      )}
      {cursor !== null && (
        <button type="button" onClick={() => load(true)} disabled={busy}>
          Older entries
        </button>
      )}
    </section>
  );
}
