// The alert decisions, pure: no Nest, no I/O, time passed in. AlertsService feeds it
// observations and events and sends what due() returns.

export type Health = 'UP' | 'DOWN';
export type SubjectKind = 'service' | 'group';

export interface AlertSettings {
  downConfirmMs: number;
  upConfirmMs: number;
  cooldownMs: number;
  startupGraceMs: number;
}

/** Something that happened to a subject and is told at once (failover switch, rollout abort), cooldown permitting. */
export interface AlertEventNote {
  type: string;
  at: number;
  text: string;
}

export interface Notification {
  subject: string;
  kind: SubjectKind;
  at: number;
  /** The confirmed state, when it differs from the last one told or an outage happened in between. */
  state?: {
    health: Health;
    since: number;
    detail: string;
    /** The state the last notification told, and since when (an UP says how long the DOWN lasted). */
    previous: { health: Health; since: number };
    /** A DOWN that began and ended while notifications were held back (cooldown or grace): never dropped silently. */
    missedDown?: { since: number; until: number };
    /** Confirmed changes since the last notification (more than one: it flapped). */
    changes: number;
  };
  events: AlertEventNote[];
}

export interface SubjectView {
  subject: string;
  kind: SubjectKind;
  state: Health;
  since: number;
  detail: string;
  /** The observed condition differs from the confirmed state: it becomes the state at firesAt if it holds. */
  pending: { to: Health; since: number; firesAt: number } | null;
  notified: Health;
  lastSentAt: number | null;
  /** Something is to be told but may not be sent yet. */
  heldBack: { until: number; reason: 'startup grace' | 'cooldown' } | null;
  events: number;
}

interface Subject {
  name: string;
  kind: SubjectKind;
  observed: Health;
  observedSince: number;
  detail: string;
  state: Health;
  stateSince: number;
  notified: Health;
  notifiedSince: number;
  lastSentAt?: number;
  graceUntil: number;
  events: AlertEventNote[];
  changes: number;
  missedDown?: { since: number; until: number };
}

/** Events kept per subject while held back; beyond this the oldest go (the count says so). */
const MAX_EVENTS = 20;

/**
 * Per subject (a service or a failover group): the observed condition becomes the confirmed
 * state only once it has held for the confirm window of its direction (hysteresis both ways).
 * A notification is due when the confirmed state differs from the last one told (or events
 * wait), no sooner than the startup grace ends and the cooldown since the subject's last
 * notification has passed. Because "due" compares states rather than counting edges, a
 * notification held back is sent when the hold ends if the state still holds, and a flap
 * that returned to the told state sends nothing, except a whole DOWN that came and went
 * unseen: that is told as a missed outage.
 */
export class AlertMachine {
  private readonly subjects = new Map<string, Subject>();

  constructor(private readonly settings: AlertSettings) {}

  /** The current condition of a subject; a subject seen for the first time starts UP with its startup grace. */
  observe(kind: SubjectKind, name: string, health: Health, detail: string, now: number): void {
    const s = this.subject(kind, name, now);
    if (health !== s.observed) {
      s.observed = health;
      s.observedSince = now;
    }
    s.detail = detail;
    this.settle(s, now);
  }

  event(kind: SubjectKind, name: string, type: string, text: string, now: number): void {
    const s = this.subject(kind, name, now);
    s.events.push({ type, at: now, text });
    if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
  }

  /** A service scaled from 0: its pods are starting, as at boot (the seed's meaning of the grace). */
  restartGrace(name: string, now: number): void {
    const s = this.subjects.get(name);
    if (s) s.graceUntil = Math.max(s.graceUntil, now + this.settings.startupGraceMs);
  }

  remove(name: string): void {
    this.subjects.delete(name);
  }

  has(name: string): boolean {
    return this.subjects.has(name);
  }

  /** The notifications to send now; they count as sent (delivery retries are the sender's business). */
  due(now: number): Notification[] {
    const out: Notification[] = [];
    for (const s of this.subjects.values()) {
      this.settle(s, now);
      if (!this.wantsToTell(s) || this.holdUntil(s) > now) continue;
      const changed = s.state !== s.notified || s.missedDown !== undefined;
      out.push({
        subject: s.name,
        kind: s.kind,
        at: now,
        state: changed
          ? { health: s.state, since: s.stateSince, detail: s.detail, previous: { health: s.notified, since: s.notifiedSince }, missedDown: s.missedDown, changes: s.changes }
          : undefined,
        events: s.events,
      });
      s.notified = s.state;
      s.notifiedSince = s.stateSince;
      s.lastSentAt = now;
      s.events = [];
      s.changes = 0;
      s.missedDown = undefined;
    }
    return out;
  }

  /** When due() may next return something without a new observation: a confirm window ending, or a hold ending. */
  nextWakeAt(): number | undefined {
    let next: number | undefined;
    const consider = (t: number) => {
      if (next === undefined || t < next) next = t;
    };
    for (const s of this.subjects.values()) {
      if (s.observed !== s.state) consider(s.observedSince + this.confirmMs(s.observed));
      if (this.wantsToTell(s)) consider(this.holdUntil(s));
    }
    return next;
  }

  view(now: number): SubjectView[] {
    return [...this.subjects.values()].map((s) => {
      this.settle(s, now);
      const hold = this.holdUntil(s);
      return {
        subject: s.name,
        kind: s.kind,
        state: s.state,
        since: s.stateSince,
        detail: s.detail,
        pending: s.observed !== s.state ? { to: s.observed, since: s.observedSince, firesAt: s.observedSince + this.confirmMs(s.observed) } : null,
        notified: s.notified,
        lastSentAt: s.lastSentAt ?? null,
        heldBack: this.wantsToTell(s) && hold > now ? { until: hold, reason: hold === s.graceUntil ? 'startup grace' : 'cooldown' } : null,
        events: s.events.length,
      };
    });
  }

  private subject(kind: SubjectKind, name: string, now: number): Subject {
    let s = this.subjects.get(name);
    if (s === undefined || s.kind !== kind) {
      s = {
        name,
        kind,
        observed: 'UP',
        observedSince: now,
        detail: '',
        state: 'UP',
        stateSince: now,
        notified: 'UP',
        notifiedSince: now,
        graceUntil: now + this.settings.startupGraceMs,
        events: [],
        changes: 0,
      };
      this.subjects.set(name, s);
    }
    return s;
  }

  private confirmMs(to: Health): number {
    return to === 'DOWN' ? this.settings.downConfirmMs : this.settings.upConfirmMs;
  }

  private settle(s: Subject, now: number): void {
    if (s.observed === s.state || now < s.observedSince + this.confirmMs(s.observed)) return;
    // Pods starting within the grace are what the grace hides; an outage that outlived it is not.
    if (s.state === 'DOWN' && s.notified === 'UP' && s.observedSince > s.graceUntil) s.missedDown = { since: s.missedDown?.since ?? s.stateSince, until: s.observedSince };
    s.state = s.observed;
    s.stateSince = s.observedSince;
    s.changes++;
  }

  private wantsToTell(s: Subject): boolean {
    return s.state !== s.notified || s.missedDown !== undefined || s.events.length > 0;
  }

  private holdUntil(s: Subject): number {
    const cooldownEnd = s.lastSentAt === undefined ? 0 : s.lastSentAt + this.settings.cooldownMs;
    return Math.max(s.graceUntil, cooldownEnd);
  }
}
