// The one way the dashboard talks to Grid: credentials attached, errors turned into ApiError
// with the server's message and field errors, and the audit entry a mutating call made.

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

export interface Credentials {
  user?: string;
  password?: string;
  key?: string;
}

// In this page's memory only: not in sessionStorage, where any script of this origin (a page a pod
// serves through /gateway/ is this origin) could read it. A reload asks again.
let creds: Credentials | null = null;

export function setCredentials(c: Credentials | null): void {
  creds = c;
}

export function hasCredentials(): boolean {
  return creds !== null;
}

export function authHeaders(): Record<string, string> {
  // Grid omits WWW-Authenticate for these requests, so a 401 shows our login form, not the browser's prompt.
  const h: Record<string, string> = { 'x-requested-with': 'XMLHttpRequest' };
  if (creds?.key) h['x-api-key'] = creds.key;
  else if (creds?.user !== undefined) h.authorization = 'Basic ' + btoa(unescape(encodeURIComponent(`${creds.user}:${creds.password ?? ''}`)));
  return h;
}

export interface ApiOptions {
  body?: string | object;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  auditId: number | null;
}

type Listener = (status: number) => void;
const unauthorizedListeners = new Set<Listener>();
/** The shell listens for 401s to show the login form again. */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

/** A request (or the event stream) was refused for its credentials. */
export function notifyUnauthorized(status: number): void {
  for (const fn of unauthorizedListeners) fn(status);
}

export function url(path: string, query?: ApiOptions['query']): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export async function request<T = unknown>(method: string, path: string, opts: ApiOptions = {}): Promise<ApiResponse<T>> {
  const headers = authHeaders();
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? (typeof opts.body === 'string' ? 'application/yaml' : 'application/json');
  }
  let res: Response;
  try {
    res = await fetch(url(path, opts.query), { method, headers, body, signal: opts.signal, credentials: 'omit' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, `Grid is not reachable (${(e as Error).message})`);
  }
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  let data: unknown = text;
  if (type.includes('json') && text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401) notifyUnauthorized(401);
    const d = data as { message?: string | string[]; errors?: FieldError[] } | string;
    const message = typeof d === 'string' ? d || res.statusText : Array.isArray(d.message) ? d.message.join('; ') : (d.message ?? res.statusText);
    throw new ApiError(res.status, message, typeof d === 'object' && Array.isArray(d.errors) ? d.errors : []);
  }
  const audit = res.headers.get('x-grid-audit-id');
  return { data: data as T, auditId: audit ? Number(audit) : null };
}

export async function get<T = unknown>(path: string, query?: ApiOptions['query'], signal?: AbortSignal): Promise<T> {
  return (await request<T>('GET', path, { query, signal })).data;
}
