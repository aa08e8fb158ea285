// Guided tour: steps that point at parts of the page and explain the idea behind each.
// Keyboard: Tab between its buttons, arrows for back/next, Escape closes.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { TOUR_STEPS } from '../lib/concepts.js';

interface Box {
  top: number;
  left: number;
  width: number;
  height: number;
}

function findTarget(selectors: readonly string[]): Element | null {
  for (const s of selectors) {
    const el = document.querySelector(s);
    if (el && el.getClientRects().length > 0) return el;
  }
  return null;
}

export function TourButton() {
  const [step, setStep] = useState<number | null>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const close = () => {
    setStep(null);
    opener.current?.focus();
  };
  return (
    <>
      <button type="button" ref={opener} data-testid="tour-start" aria-haspopup="dialog" onClick={() => setStep(0)}>
        Tour
      </button>
      {step !== null && <Tour step={step} setStep={setStep} onClose={close} />}
    </>
  );
}

function Tour({ step, setStep, onClose }: { step: number; setStep: (n: number) => void; onClose: () => void }) {
  const s = TOUR_STEPS[step];
  const last = step === TOUR_STEPS.length - 1;
  const [box, setBox] = useState<Box | null>(null);
  const next = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (s.route && !location.hash.startsWith(`#/${s.route}`)) location.hash = `#/${s.route}`;
    let el: Element | null = null;
    const measure = () => {
      const r = el?.getBoundingClientRect();
      setBox(r ? { top: r.top - 6, left: r.left - 6, width: r.width + 12, height: Math.min(r.height + 12, innerHeight * 0.6) } : null);
    };
    // The view renders after the route changes: look for the target on the next frames.
    let tries = 0;
    let raf = 0;
    const find = () => {
      el = findTarget(s.target);
      if (!el && tries++ < 30) return void (raf = requestAnimationFrame(find));
      el?.scrollIntoView({ block: 'center', behavior: 'instant' as ScrollBehavior });
      measure();
    };
    find();
    addEventListener('resize', measure);
    addEventListener('scroll', measure, true);
    return () => {
      cancelAnimationFrame(raf);
      removeEventListener('resize', measure);
      removeEventListener('scroll', measure, true);
    };
  }, [step]);

  useLayoutEffect(() => next.current?.focus(), [step]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') (e.preventDefault(), onClose());
      else if (e.key === 'ArrowRight' && !last) setStep(step + 1);
      else if (e.key === 'ArrowLeft' && step > 0) setStep(step - 1);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [step]);

  return (
    <div class="tour">
      {box && <div class="tour-spot" aria-hidden="true" style={{ top: `${box.top}px`, left: `${box.left}px`, width: `${box.width}px`, height: `${box.height}px` }} />}
      <div class="tour-card panel" role="dialog" aria-modal="false" aria-labelledby="tour-h" aria-describedby="tour-text" data-testid="tour-step" data-step={s.id}>
        <p class="muted small num">
          Step {step + 1} of {TOUR_STEPS.length}
        </p>
        <h2 id="tour-h">{s.title}</h2>
        <p id="tour-text">{s.text}</p>
        <div class="row end">
          <button type="button" data-testid="tour-close" onClick={onClose}>
            Close
          </button>
          <button type="button" disabled={step === 0} onClick={() => setStep(step - 1)}>
            Back
          </button>
          <button type="button" class="primary" ref={next} data-testid="tour-next" onClick={() => (last ? onClose() : setStep(step + 1))}>
            {last ? 'Finish' : 'Next'}
          </button>
        </div>
      </div>
    </div>
  );
}
