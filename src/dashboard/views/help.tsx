// Help: what the dashboard shows and the orchestration ideas behind it, for someone new.
import { useEffect, useRef, useState } from 'preact/hooks';
import { CONCEPTS } from '../lib/concepts.js';

export function HelpButton() {
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const refocus = useRef(false);
  // Focus goes back only once the dialog is gone: while a modal <dialog> is open the rest of the page is inert.
  useEffect(() => {
    if (!open && refocus.current) {
      refocus.current = false;
      opener.current?.focus();
    }
  }, [open]);
  return (
    <>
      <button type="button" ref={opener} data-testid="help-open" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        Help
      </button>
      {open && (
        <HelpDialog
          onClose={() => {
            refocus.current = true;
            setOpen(false);
          }}
        />
      )}
    </>
  );
}

function HelpDialog({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog help" data-testid="help-dialog" aria-labelledby="help-h" onCancel={(e) => (e.preventDefault(), onClose())}>
      <div class="row">
        <h2 id="help-h">How Grid works</h2>
        <button type="button" class="push" data-testid="help-close" onClick={onClose} autofocus>
          Close
        </button>
      </div>
      <p>
        Grid runs your services on this machine and keeps them the way you asked. This page shows it happening live; nothing here polls faster than every 5 seconds, the rest arrives as events.
      </p>
      <dl class="concepts">
        {CONCEPTS.map((c) => (
          <div key={c.id}>
            <dt>{c.title}</dt>
            <dd>{c.text}</dd>
          </div>
        ))}
      </dl>
      <h3>Keys</h3>
      <p>
        Tab moves between controls; Enter or Space presses; Escape closes dialogs and the tour. Destructive actions ask first, and every action shows its result and the audit entry it made.
      </p>
      <p class="muted">
        The API is described at <a href="/docs">/docs</a>. New here? Press <strong>Tour</strong>, or <strong>Play Demo</strong> to watch a release, a failed canary, a crash and a failover.
      </p>
    </dialog>
  );
}
