// What an alert says, in plain words with the numbers. Pure: the same text goes by email
// and, with the structured fields beside it, to the webhook.
import type { Notification, SubjectKind } from './alert-machine.js';

export interface AlertMessage {
  subject: string;
  kind: SubjectKind | 'test';
  /** The email subject without the prefix. */
  title: string;
  text: string;
  /** The webhook's JSON body. */
  payload: Record<string, unknown>;
}

/** "450 ms", "30 s", "4 min 5 s", "2 h 3 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** "12:01:05 UTC": a mail client shows the date; UTC says which clock. */
export function clockTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

const noun = (kind: SubjectKind) => (kind === 'group' ? 'failover group' : 'service');

export function formatNotification(n: Notification, publicUiUrl?: string): AlertMessage {
  const lines: string[] = [];
  const titles: string[] = [];
  const st = n.state;
  if (st) {
    const lasted = st.health === 'DOWN' ? `for ${duration(n.at - st.since)} (since ${clockTime(st.since)})` : `since ${clockTime(st.since)}`;
    lines.push(`${n.subject} is ${st.health}: ${st.detail} ${lasted}.`);
    titles.push(`${n.subject} is ${st.health}`);
    if (st.health === 'UP' && st.previous.health === 'DOWN') lines.push(`It was DOWN for ${duration(st.since - st.previous.since)}, from ${clockTime(st.previous.since)}.`);
    if (st.missedDown) {
      lines.push(`It was DOWN for ${duration(st.missedDown.until - st.missedDown.since)}, from ${clockTime(st.missedDown.since)} to ${clockTime(st.missedDown.until)}, while alerts were held back by the cooldown.`);
      titles[0] = `${n.subject} was DOWN ${duration(st.missedDown.until - st.missedDown.since)}, now ${st.health}`;
    }
    if (st.changes > 1) lines.push(`Its state changed ${st.changes} times since the last alert (flapping).`);
  }
  for (const e of n.events) lines.push(`${clockTime(e.at)} ${e.type}: ${e.text}`);
  if (!st) titles.push(n.events.length === 1 ? `${n.subject}: ${n.events[0].type}` : `${n.subject}: ${n.events.length} events`);
  else if (n.events.length) titles.push(`${n.events.length} event${n.events.length > 1 ? 's' : ''}`);
  lines.push('', `(${noun(n.kind)} ${n.subject}, ${new Date(n.at).toISOString()})`);
  if (publicUiUrl) lines.push(`Grid: ${publicUiUrl}`);
  return {
    subject: n.subject,
    kind: n.kind,
    title: titles.join(', '),
    text: lines.join('\n') + '\n',
    payload: {
      subject: n.subject,
      kind: n.kind,
      at: new Date(n.at).toISOString(),
      state: st
        ? {
            health: st.health,
            since: new Date(st.since).toISOString(),
            detail: st.detail,
            previous: { health: st.previous.health, since: new Date(st.previous.since).toISOString() },
            missedDown: st.missedDown ? { since: new Date(st.missedDown.since).toISOString(), until: new Date(st.missedDown.until).toISOString() } : null,
            changes: st.changes,
          }
        : null,
      events: n.events.map((e) => ({ type: e.type, at: new Date(e.at).toISOString(), text: e.text })),
      url: publicUiUrl ?? null,
    },
  };
}

export function testMessage(now: number, publicUiUrl?: string): AlertMessage {
  const text = `This is a test alert sent by POST /alerts/test at ${new Date(now).toISOString()}. If you read it, Grid's alerts reach you.\n` + (publicUiUrl ? `Grid: ${publicUiUrl}\n` : '');
  return {
    subject: 'test',
    kind: 'test',
    title: 'test alert',
    text,
    payload: { test: true, at: new Date(now).toISOString(), text, url: publicUiUrl ?? null },
  };
}
