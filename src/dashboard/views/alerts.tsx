// Alert state per service and failover group, pending confirmations, and how each
// notification was delivered; a test alert goes through every configured channel.
import { useEffect, useState } from 'preact/hooks';
import { get } from '../lib/api.js';
import { act } from '../lib/actions.js';
import { useStore } from '../lib/store.js';

interface Subject {
  subject: string;
  kind: string;
  state: 'UP' | 'DOWN';
  since: string;
  detail: string;
  pending: { to: string; since: string; firesAt: string } | null;
  notified: string;
  lastSentAt: string | null;
  heldBack: { until: string; reason: string } | null;
}
interface Delivery {
  id: number;
  channel: string;
  subject: string;
  title: string;
  state: string;
  attempts: number;
  queuedAt: string;
  finishedAt: string | null;
  lastError: string | null;
}
interface AlertStatus {
  settings: { downConfirmMs: number; upConfirmMs: number; cooldownMs: number };
  channels: { email: unknown; webhook: unknown };
  subjects: Subject[];
  deliveries: Delivery[];
}

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
const held = (ms: number) => (ms > 0 ? ` for ${secs(ms)}` : '');
const time = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '—');

export function AlertsView() {
  const me = useStore((s) => s.me);
  const [data, setData] = useState<AlertStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    get<AlertStatus>('/alerts')
      .then((d) => alive && (setData(d), setError(null)))
      .catch((e) => alive && setError(e.message));
    const t = setTimeout(() => setTick((n) => n + 1), 5000);
    return () => ((alive = false), clearTimeout(t));
  }, [tick]);
  const channels = data ? Object.entries(data.channels).filter(([, c]) => c) : [];
  const sendTest = async () => {
    await act('Test alert', 'POST', '/alerts/test');
    setTick((n) => n + 1);
  };
  return (
    <section class="panel" data-testid="alerts-panel" aria-labelledby="alerts-h">
      <div class="row">
        <h2 id="alerts-h">Alerts</h2>
        <span class="muted">{data ? (channels.length ? `channels: ${channels.map(([n]) => n).join(', ')}` : 'no channel configured (SMTP_HOST + EMAIL_TO, or ALERT_WEBHOOK_URL)') : ''}</span>
        <button type="button" class="primary push" onClick={sendTest} disabled={!me?.canAct} title={me?.canAct ? 'Send one message through every channel' : 'Viewers cannot send alerts'}>
          Send test alert
        </button>
      </div>
      {error && <p class="error">Could not read alerts: {error}</p>}
      {data && (
        <>
          <p class="muted small">
            A service turns DOWN when fewer of its pods are ready than desired{held(data.settings.downConfirmMs)}, and UP again when all are{held(data.settings.upConfirmMs)};{' '}
            {data.settings.cooldownMs > 0 ? `notifications wait out a ${secs(data.settings.cooldownMs)} cooldown.` : 'notifications have no cooldown.'}
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Subject</th>
                  <th scope="col">State</th>
                  <th scope="col">Since</th>
                  <th scope="col">Pending</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {data.subjects.length === 0 && (
                  <tr>
                    <td colSpan={5} class="muted">
                      Nothing watched yet.
                    </td>
                  </tr>
                )}
                {data.subjects.map((s) => (
                  <tr key={s.subject} data-testid="alert-row" data-subject={s.subject} data-state={s.state}>
                    <td>
                      {s.subject} <span class="muted small">{s.kind}</span>
                    </td>
                    <td class={s.state === 'UP' ? 'ok' : 'error'}>{s.state === 'UP' ? '▲ UP' : '▼ DOWN'}</td>
                    <td class="num">{time(s.since)}</td>
                    <td>
                      {s.pending ? `→ ${s.pending.to} at ${time(s.pending.firesAt)}` : '—'}
                      {s.heldBack ? ` · held back (${s.heldBack.reason}) until ${time(s.heldBack.until)}` : ''}
                    </td>
                    <td class="muted">{s.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3>Deliveries</h3>
          {data.deliveries.length === 0 ? (
            <p class="muted">No notification sent yet.</p>
          ) : (
            <ol class="plain-list">
              {data.deliveries.slice(0, 30).map((d) => (
                <li key={d.id}>
                  <span class="num muted">{time(d.queuedAt)}</span> <span class="badge">{d.channel}</span> {d.title} · <span class={d.state === 'sent' ? 'ok' : d.state === 'failed' ? 'error' : 'warn'}>{d.state}</span>
                  <span class="muted"> after {d.attempts} attempt{d.attempts === 1 ? '' : 's'}</span>
                  {d.lastError && <span class="error"> · {d.lastError}</span>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
