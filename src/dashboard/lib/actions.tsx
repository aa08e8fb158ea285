// Mutating calls from the dashboard: each one shows its result and the audit entry it made,
// or the server's message when it was refused; destructive ones ask first.
import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { request, ApiError, type ApiOptions } from './api.js';
import { getState, refreshAll } from './store.js';

export interface Toast {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

let toasts: Toast[] = [];
let nextToast = 1;
const toastListeners = new Set<(t: Toast[]) => void>();

export function onToasts(fn: (t: Toast[]) => void): () => void {
  toastListeners.add(fn);
  return () => toastListeners.delete(fn);
}

export function toast(kind: Toast['kind'], text: string, ms = kind === 'error' ? 10_000 : 6000): void {
  const t = { id: nextToast++, kind, text };
  toasts = [...toasts.slice(-4), t];
  for (const fn of toastListeners) fn(toasts);
  setTimeout(() => dismissToast(t.id), ms);
}

export function dismissToast(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  for (const fn of toastListeners) fn(toasts);
}

export interface ActResult<T> {
  ok: boolean;
  data?: T;
  auditId?: number | null;
  error?: ApiError;
}

/** Runs one mutating call; the toast says what happened and names its audit entry. */
export async function act<T = unknown>(label: string, method: string, path: string, opts: ApiOptions = {}): Promise<ActResult<T>> {
  if (getState().me && !getState().me!.canAct) {
    const error = new ApiError(403, `${getState().me!.name} is a viewer: changing state needs an operator`);
    toast('error', `${label}: ${error.message}`);
    return { ok: false, error };
  }
  try {
    const r = await request<T>(method, path, opts);
    toast('ok', `${label}: done${r.auditId ? ` · audit #${r.auditId}` : ''}`);
    void refreshAll();
    return { ok: true, data: r.data, auditId: r.auditId };
  } catch (e) {
    const error = e instanceof ApiError ? e : new ApiError(0, (e as Error).message);
    toast('error', `${label}: ${error.status ? `${error.status} ` : ''}${error.message}`);
    return { ok: false, error };
  }
}

/** Asks in a modal dialog; resolves true only on an explicit yes. */
export function confirmThen(question: string, detail?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const host = document.createElement('div');
    document.body.appendChild(host);
    const done = (yes: boolean) => {
      render(null, host);
      host.remove();
      // Only now: while the modal <dialog> was open the opener was inert and could not take focus.
      opener?.focus();
      resolve(yes);
    };
    render(<ConfirmDialog question={question} detail={detail} onDone={done} />, host);
  });
}

function ConfirmDialog(p: { question: string; detail?: string; onDone: (yes: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog confirm" data-testid="confirm-dialog" aria-labelledby="confirm-q" onCancel={(e) => (e.preventDefault(), p.onDone(false))}>
      <h2 id="confirm-q">{p.question}</h2>
      {p.detail && <p>{p.detail}</p>}
      <div class="row end">
        <button type="button" data-testid="confirm-no" onClick={() => p.onDone(false)} autofocus>
          Cancel
        </button>
        <button type="button" class="danger" data-testid="confirm-yes" onClick={() => p.onDone(true)}>
          Yes, do it
        </button>
      </div>
    </dialog>
  );
}
