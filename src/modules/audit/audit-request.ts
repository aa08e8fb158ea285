// What an audit entry says about a mutating request: action, target and a short summary.
// Pure (no Nest, no I/O), so what is recorded, and above all what is never recorded, is
// table-tested. The rule for secrets: a body is never copied; only fields named here are read
// from it (a user's name and role), and query values whose names look secret are withheld.

export interface RequestFacts {
  method: string;
  /** The route pattern as registered, e.g. /services/:name/rollout/promote. */
  route: string;
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

export interface Described {
  action: string;
  target: string | null;
  summary: string;
}

export const SUMMARY_MAX = 500;
/** A target, a name or a path inside a summary. */
export const FIELD_MAX = 100;

/** Nicer names than the route gives (singular nouns, Grid's verbs); everything else is derived. */
const ACTIONS: Record<string, string> = {
  'POST /apply': 'apply',
  'DELETE /services/:name': 'service.delete',
  'POST /scale': 'scale',
  'POST /load': 'chaos.load',
  'DELETE /chaos/traffic': 'chaos.traffic.stop',
  'POST /pods/:id/chaos/:toggle': 'chaos.pod',
  'POST /users': 'user.create',
  'DELETE /users/:name': 'user.delete',
};

const SECRET_NAME = /pass|secret|token|key|auth|cred|sig/i;

/**
 * From the route's fixed segments: POST /failover/:group/switch → failover.switch,
 * POST /services/:name/rollout/promote → rollout.promote, DELETE /things/:id → things.delete.
 */
export function actionOf(method: string, route: string): string {
  const known = ACTIONS[`${method} ${route}`];
  if (known) return known;
  const segments = route.split('/').filter((s) => s !== '' && s !== '*');
  let fixed = segments.filter((s) => !s.startsWith(':'));
  if (fixed[0] === 'services' && fixed.length > 1) fixed = fixed.slice(1);
  if (method === 'DELETE' && segments[segments.length - 1]?.startsWith(':')) fixed.push('delete');
  return fixed.join('.') || method.toLowerCase();
}

/**
 * A @Mutating route called so that it stores nothing: a dry run of /apply (`gridctl diff`), including
 * a malformed dryRun, which is a 400 before anything is stored. Such a request does not need a writable
 * data dir: while the disk is full or read-only it is answered, without an audit entry (AuditInterceptor).
 */
export function writesNothing(req: Pick<RequestFacts, 'method' | 'route' | 'query'>): boolean {
  return actionOf(req.method, req.route) === 'apply' && req.query.dryRun !== undefined;
}

/** The request's action, target and summary, from the request and (when it succeeded) the answer. */
export function describeRequest(req: RequestFacts, answer: unknown, error: unknown): Described {
  // A preview changes nothing; its entry must not read as an apply.
  let action = writesNothing(req) ? 'apply.dry-run' : actionOf(req.method, req.route);
  let target = firstString(req.params.name, req.params.service, req.params.group, req.params.id, req.query.service, req.query.group, req.query.pod);
  let summary: string;
  if (action === 'apply' || action === 'apply.dry-run') {
    const applied = appliedOf(answer);
    if (applied) {
      target = clip(applied.map((a) => a.name).join(','), FIELD_MAX);
      summary = applied.map((a) => `${a.kind === 'group' ? 'group ' : ''}${a.name} ${a.result}`).join(', ');
    } else summary = refusalOf(error) ?? 'apply';
  } else if (action === 'user.create') {
    // Name and role only: the body also holds the password.
    const user = userOf(req.body);
    target = user.name;
    summary = [user.name ? `name=${user.name}` : '', user.role ? `role=${user.role}` : ''].filter(Boolean).join(' ') || 'user';
  } else if (action === 'broadcast') {
    // The pods' path, without its query string (which might carry a token meant for them).
    const rest = typeof req.params['*'] === 'string' ? req.params['*'].split('?')[0] : '';
    summary = `${req.method} /${rest}`;
  } else {
    summary = [typeof req.params.toggle === 'string' ? `toggle=${req.params.toggle}` : '', queryText(req.query)].filter(Boolean).join(' ');
    const refusal = error === undefined ? undefined : refusalOf(error);
    if (refusal) summary = summary ? `${summary}; ${refusal}` : refusal;
  }
  return { action, target: target === undefined ? null : clip(target, FIELD_MAX), summary: clip(summary, SUMMARY_MAX) };
}

function firstString(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v !== '') return v;
  return undefined;
}

/** At most max characters, an ellipsis marking a cut: what a caller sends never sizes a row. */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** `k=v k2=v2`, secret-looking values withheld. */
function queryText(query: Record<string, unknown>): string {
  return Object.entries(query)
    .map(([k, v]) => `${clip(k, 40)}=${SECRET_NAME.test(k) ? '[withheld]' : clip(Array.isArray(v) ? v.join(',') : String(v), 60)}`)
    .join(' ');
}

interface Applied {
  name: string;
  kind: 'service' | 'group';
  result: string;
}

/** /apply's answer: { applied: [{ service, result } | { failoverGroup, result }] }. */
function appliedOf(answer: unknown): Applied[] | undefined {
  const list = (answer as { applied?: unknown } | null | undefined)?.applied;
  if (!Array.isArray(list)) return undefined;
  return list.map((a: Record<string, unknown>) => {
    const group = typeof a?.failoverGroup === 'string' ? a.failoverGroup : undefined;
    const name = group ?? firstString(a?.service, a?.name) ?? '?';
    return { name, kind: group ? 'group' : 'service', result: typeof a?.result === 'string' ? a.result : '?' };
  });
}

/**
 * Why a request was refused, by the fields it named, never by the error's words: a
 * validator's message may quote the value it refused, and a spec's env values can be secrets.
 */
function refusalOf(error: unknown): string | undefined {
  const errors = (error as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const paths = errors.map((e: { path?: unknown }) => (typeof e?.path === 'string' ? e.path : '?'));
  return `invalid: ${paths.slice(0, 10).join(', ')}${paths.length > 10 ? ` and ${paths.length - 10} more` : ''}`;
}

function userOf(body: unknown): { name?: string; role?: string } {
  let o: unknown = body;
  if (typeof body === 'string') {
    try {
      o = JSON.parse(body);
    } catch {
      return {};
    }
  }
  if (!o || typeof o !== 'object') return {};
  const { name, role } = o as Record<string, unknown>;
  return { name: typeof name === 'string' ? clip(name, FIELD_MAX) : undefined, role: typeof role === 'string' ? clip(role, 20) : undefined };
}
