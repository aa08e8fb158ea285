// The audit trail's hash chain, with no I/O: each entry's hash covers the previous entry's
// hash and the entry's own content, so changing, removing or reordering a stored row breaks
// the chain at that row (unless every later hash is recomputed, which the head anchor catches
// while Grid runs; see verifyChain).
import { createHash } from 'node:crypto';

export type ActorKind = 'api-key' | 'user' | 'anonymous' | 'system';

/** What is recorded, before it has a place in the chain. */
export interface AuditDraft {
  time: number;
  actor: string;
  actorKind: ActorKind;
  sourceIp: string | null;
  action: string;
  target: string | null;
  summary: string;
  /** The HTTP status answered; null for decisions Grid made on its own. */
  status: number | null;
}

export interface AuditEntry extends AuditDraft {
  id: number;
  prevHash: string;
  hash: string;
}

/** The prevHash of entry 1. */
export const GENESIS = '0'.repeat(64);

/**
 * A fixed field order in a JSON array: unambiguous (JSON escapes every separator), independent
 * of object key order, and the same in any language that writes JSON.
 */
export function canonical(e: AuditDraft & { id: number }): string {
  return JSON.stringify([e.id, e.time, e.actor, e.actorKind, e.sourceIp, e.action, e.target, e.summary, e.status]);
}

export function entryHash(prevHash: string, e: AuditDraft & { id: number }): string {
  return createHash('sha256').update(prevHash).update(canonical(e)).digest('hex');
}

/** The next link: id and prevHash follow from the head (the last entry, or none yet). */
export function link(head: ChainHead | null, draft: AuditDraft): AuditEntry {
  const id = head ? head.id + 1 : 1;
  const prevHash = head ? head.hash : GENESIS;
  const e = { ...draft, id, prevHash, hash: '' };
  e.hash = entryHash(prevHash, e);
  return e;
}

export interface ChainHead {
  id: number;
  hash: string;
}

export type BrokenReason = 'altered' | 'removed' | 'bad-prev-hash' | 'unknown-entry';

export interface BrokenLink {
  /** The entry where the chain breaks; for 'removed', the first missing id. */
  id: number;
  reason: BrokenReason;
  detail: string;
}

export interface Verification {
  ok: boolean;
  checked: number;
  firstBroken?: BrokenLink;
}

/**
 * Walks the entries in id order and reports the first broken link. `anchor` is the head the
 * writer knows it wrote last (kept in memory, not in the table): with it, removing the newest
 * entries, or rewriting the tail with recomputed hashes, is found too. Without it (after a
 * restart) only breaks before the last stored entry can be found.
 */
export function verifyChain(entries: Iterable<AuditEntry>, anchor?: ChainHead | null): Verification {
  const walk = new ChainWalk();
  walk.feed(entries, anchor);
  return walk.end(anchor);
}

/**
 * verifyChain a piece at a time, so a long chain can be checked between other work: feed the
 * entries in id order, each piece with the writer's head as it is when that piece is read (the
 * chain may have grown since the piece before), then end() with the head at the last read.
 */
export class ChainWalk {
  private prev: ChainHead | null = null;
  private checked = 0;
  private broken?: BrokenLink;

  /** False once a broken link was found: there is no need to read further. */
  feed(entries: Iterable<AuditEntry>, anchor?: ChainHead | null): boolean {
    if (this.broken) return false;
    for (const e of entries) {
      this.broken = this.check(e, anchor);
      if (this.broken) return false;
      this.prev = { id: e.id, hash: e.hash };
      this.checked++;
    }
    return true;
  }

  end(anchor?: ChainHead | null): Verification {
    const { prev, checked } = this;
    if (!this.broken && anchor) {
      if (!prev || prev.id < anchor.id) {
        const first = prev ? prev.id + 1 : 1;
        this.broken = { id: first, reason: 'removed', detail: `entries ${first}..${anchor.id} are missing: the log ends at ${prev ? prev.id : 'nothing'} but Grid wrote up to ${anchor.id}` };
      } else if (prev.hash !== anchor.hash) {
        this.broken = { id: prev.id, reason: 'altered', detail: `entry ${prev.id} is not the entry Grid wrote: the chain was recomputed` };
      }
    }
    return this.broken ? { ok: false, checked, firstBroken: this.broken } : { ok: true, checked };
  }

  private check(e: AuditEntry, anchor?: ChainHead | null): BrokenLink | undefined {
    const { prev } = this;
    const expectedId: number = prev ? prev.id + 1 : 1;
    if (anchor && e.id > anchor.id) {
      return { id: e.id, reason: 'unknown-entry', detail: `entry ${e.id} is after the last entry Grid wrote (${anchor.id}): it was added from outside` };
    }
    if (e.id !== expectedId) {
      return {
        id: expectedId,
        reason: 'removed',
        detail: e.id > expectedId ? `entries ${expectedId}..${e.id - 1} are missing: ${e.id} follows ${prev ? prev.id : 'the start'}` : `entry ${e.id} is out of sequence after ${prev?.id}`,
      };
    }
    const expectedPrev = prev ? prev.hash : GENESIS;
    if (entryHash(e.prevHash, e) !== e.hash) {
      return { id: e.id, reason: 'altered', detail: `entry ${e.id} does not match its hash: its content or hash was changed` };
    }
    if (e.prevHash !== expectedPrev) {
      return { id: e.id, reason: 'bad-prev-hash', detail: `entry ${e.id} does not hold the hash of entry ${e.id - 1}: an earlier entry was rewritten or replaced` };
    }
    return undefined;
  }
}
