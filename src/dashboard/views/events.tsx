// The event log: live from the store, newest first, and from GET /events when a filter reaches
// past the last events the store keeps. Explain mode shows why each event happened.
import { Component } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get } from '../lib/api.js';
import { EVENTS_KEPT, useStore } from '../lib/store.js';
import { needsServer, parseSince, visibleEvents, type EventFilter } from '../lib/event-filter.js';
import type { GridEvent } from '../../common/api/types.js';
import { clockTime } from '../lib/format.js';

/** Rows rendered at most: enough to read, few enough that 50 events/s stays cheap. */
const MAX_ROWS = 200;
const EXPLAIN_KEY = 'grid.explain';


function severity(e: GridEvent): 'bad' | 'warn' | 'good' | '' {
  if (/aborted|killed|backoff|exited|unhealthy|failed|unschedulable|stalled/i.test(e.type + ' ' + e.reason)) return 'bad';
  if (/unready|terminating|paused|switched|deleted/i.test(e.type + ' ' + e.reason)) return 'warn';
  if (/ready|completed|healthy|promoted/i.test(e.type + ' ' + e.reason)) return 'good';
  return '';
}

/** An event never changes: a row re-renders only when explain mode flips. */
class EventRow extends Component<{ e: GridEvent; explain: boolean }> {
  shouldComponentUpdate(next: { e: GridEvent; explain: boolean }) {
    return next.e !== this.props.e || next.explain !== this.props.explain;
  }
  render({ e, explain }: { e: GridEvent; explain: boolean }) {
  return (
    <li class={`event-row ${severity(e)}`} data-testid="event-row" data-id={e.id} data-type={e.type} data-service={e.service ?? ''}>
      <time class="num muted" dateTime={new Date(e.time).toISOString()}>
        {clockTime(e.time)}
      </time>
      <span class="ev-type mono">{e.type}</span>
      <span class="ev-service">{e.service ?? '—'}</span>
      <span class="ev-msg">{e.message}</span>
      {explain && (
        <span class="ev-explain" data-testid="event-explain">
          {e.explain}
        </span>
      )}
    </li>
  );
  }
}

export function EventsView() {
  const live = useStore((s) => s.events);
  const services = useStore((s) => s.state?.services);
  const [service, setService] = useState('');
  const [type, setType] = useState('');
  const [sinceText, setSinceText] = useState('');
  const [explain, setExplain] = useState(() => localStorage.getItem(EXPLAIN_KEY) === '1');
  const [server, setServer] = useState<GridEvent[]>([]);
  const [serverNote, setServerNote] = useState<string | null>(null);

  const since = useMemo(() => parseSince(sinceText, Date.now()), [sinceText]);
  const filter: EventFilter = useMemo(() => ({ service, type: type.trim(), since }), [service, type, since]);
  const typeValid = filter.type === '' || /^[a-zA-Z*][a-zA-Z.*-]{0,63}$/.test(filter.type);
  const wantServer = typeValid && needsServer(filter, live, EVENTS_KEPT);

  // Asked again only when the filter changes: newer events keep coming from the stream.
  useEffect(() => {
    if (!wantServer) return setServer([]), setServerNote(null);
    const ctrl = new AbortController();
    const t = setTimeout(() => {
      get<{ events: GridEvent[] }>('/events', { service: filter.service, type: filter.type, since: filter.since ?? undefined, limit: MAX_ROWS }, ctrl.signal)
        .then((r) => (setServer(r.events), setServerNote(`plus ${r.events.length} older matches from the log`)))
        .catch((e) => e.name !== 'AbortError' && setServerNote(`could not read older events: ${e.message}`));
    }, 250);
    return () => (clearTimeout(t), ctrl.abort());
  }, [wantServer, filter]);

  const rows = useMemo(() => (typeValid ? visibleEvents(live, server, filter, MAX_ROWS) : []), [live, server, filter, typeValid]);
  const toggleExplain = () => {
    localStorage.setItem(EXPLAIN_KEY, explain ? '0' : '1');
    setExplain(!explain);
  };

  return (
    <section class="events-view" aria-labelledby="events-h">
      <div class="row events-head">
        <h2 id="events-h">Events</h2>
        <button type="button" data-testid="explain-toggle" aria-pressed={explain} class={explain ? 'primary' : ''} onClick={toggleExplain}>
          Explain mode: {explain ? 'on' : 'off'}
        </button>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} role="search" aria-label="Filter events">
        <label>
          Service
          <select data-testid="events-filter-service" value={service} onChange={(e) => setService(e.currentTarget.value)}>
            <option value="">all services</option>
            {(services ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
            {service && !(services ?? []).some((s) => s.name === service) && <option value={service}>{service}</option>}
          </select>
        </label>
        <label>
          <span>
            Type <span class="hint">exact, or a prefix like pod.*</span>
          </span>
          <input data-testid="events-filter-type" value={type} placeholder="pod.*" list="event-types" onInput={(e) => setType(e.currentTarget.value)} aria-invalid={!typeValid} />
          <datalist id="event-types">
            {['pod.*', 'rollout.*', 'failover.*', 'autoscale.*', 'spec.*', 'pod.ready', 'pod.killed', 'rollout.aborted', 'failover.switched'].map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label>
          <span>
            Since <span class="hint">15m, 2h or a time</span>
          </span>
          <input data-testid="events-filter-since" value={sinceText} placeholder="15m" onInput={(e) => setSinceText(e.currentTarget.value)} aria-invalid={sinceText.trim() !== '' && since === null} />
        </label>
      </form>
      <p class="muted small" aria-live="polite">
        {!typeValid ? <span class="error">Type must be an event type such as pod.exited or a prefix such as pod.*</span> : `${rows.length} shown${rows.length >= MAX_ROWS ? ` (newest ${MAX_ROWS})` : ''}${serverNote ? ` · ${serverNote}` : ''}`}
      </p>
      <ol class={`event-list${explain ? ' explain' : ''}`} aria-label="Events, newest first">
        {rows.map((e) => (
          <EventRow key={e.id} e={e} explain={explain} />
        ))}
      </ol>
      {rows.length === 0 && typeValid && <p class="muted">No events match yet.</p>}
    </section>
  );
}
