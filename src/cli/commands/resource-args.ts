// The TYPE NAME… / TYPE/NAME… arguments of get, describe, delete and scale, read as kubectl reads
// them, so what `gridctl get … -o name` prints can be passed back to any of them. Pure: no I/O.
import { UsageError } from '../errors.js';

export type Kind = 'services' | 'pods' | 'failovergroups' | 'events' | 'volumes';

const KINDS: Record<string, Kind> = {
  services: 'services', service: 'services', svc: 'services',
  pods: 'pods', pod: 'pods', po: 'pods',
  failovergroups: 'failovergroups', failovergroup: 'failovergroups', fg: 'failovergroups',
  events: 'events', event: 'events', ev: 'events',
  // Grid's data directories are what kubectl calls PersistentVolumeClaims.
  volumes: 'volumes', volume: 'volumes', vol: 'volumes', pvc: 'volumes',
};

/** What -o name and "not found" call each kind. */
export const SINGULAR: Record<Kind, string> = { services: 'service', pods: 'pod', failovergroups: 'failovergroup', events: 'event', volumes: 'volume' };

const ALIASES: Record<Kind, string> = { services: 'services (svc)', pods: 'pods (po)', failovergroups: 'failovergroups (fg)', events: 'events (ev)', volumes: 'volumes (vol, pvc)' };

/** One object (`name` set) or every object of a kind (`name` absent). */
export interface ResourceRef {
  kind: Kind;
  name?: string;
}

/** A kind alias (`svc`, `pod`, `failovergroups`…) as its canonical kind, or undefined: the one alias table, for completion too. */
export function kindNamed(word: string): Kind | undefined {
  const w = word.toLowerCase();
  return Object.hasOwn(KINDS, w) ? KINDS[w] : undefined;
}

/** Every word that names `kind`. */
export function aliasesOf(kind: Kind): string[] {
  return Object.keys(KINDS).filter((w) => KINDS[w] === kind);
}

/** A kind alias (`svc`, `pod`, `failovergroups`…) as its canonical kind, or a usage error listing those `allowed`. */
export function kindOf(raw: string, allowed: readonly Kind[] = Object.keys(ALIASES) as Kind[]): Kind {
  const k = kindNamed(raw);
  if (!k || !allowed.includes(k)) throw new UsageError(`unknown resource type '${raw}': one of ${allowed.map((a) => ALIASES[a]).join(', ')}`);
  return k;
}

/**
 * `svc` → every service; `svc a b` → services a and b; `svc/a pod/b` → each as named. As kubectl,
 * the two forms do not mix (`svc a/b` is refused), and a name holds no '/'.
 */
export function parseResourceArgs(args: string[], allowed?: readonly Kind[]): ResourceRef[] {
  if (args.length === 0) throw new UsageError(`give a resource type (${(allowed ?? (Object.keys(ALIASES) as Kind[])).map((a) => ALIASES[a]).join(', ')})`);
  if (args[0].includes('/')) {
    return args.map((a) => {
      const parts = a.split('/');
      if (parts.length !== 2) throw new UsageError(`'${a}': arguments in TYPE/NAME form have exactly one '/'`);
      if (parts[0] === '' || parts[1] === '') throw new UsageError(`'${a}': TYPE/NAME needs both a type and a name`);
      return { kind: kindOf(parts[0], allowed), name: parts[1] };
    });
  }
  const kind = kindOf(args[0], allowed);
  const names = args.slice(1);
  const mixed = names.find((n) => n.includes('/'));
  if (mixed) throw new UsageError(`'${mixed}': give either TYPE NAME… or TYPE/NAME…, not both (e.g. '${mixed}' alone)`);
  if (names.length === 0) return [{ kind }];
  return names.map((name) => ({ kind, name }));
}

/** For commands that act on named objects only (describe, delete): every ref must carry a name. */
export function namedRefs(args: string[], allowed: readonly Kind[], verb: string): Array<Required<ResourceRef>> {
  const refs = parseResourceArgs(args, allowed);
  const bare = refs.find((r) => r.name === undefined);
  if (bare) throw new UsageError(`${verb} ${args[0]}: give the name of at least one ${SINGULAR[bare.kind]} (TYPE NAME… or TYPE/NAME…)`);
  return refs as Array<Required<ResourceRef>>;
}

/** `scale service api` / `scale service/api`: the one service's name. */
export function scaleTarget(args: string[]): string {
  const refs = namedRefs(args, ['services'], 'scale');
  if (refs.length > 1) throw new UsageError('scale: one service at a time');
  return refs[0].name;
}
