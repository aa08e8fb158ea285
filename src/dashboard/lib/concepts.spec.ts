import { CONCEPTS, TOUR_STEPS } from './concepts.js';

describe('TOUR_STEPS', () => {
  it.each(['desired-state', 'reconcile', 'probes', 'backoff', 'rollouts', 'autoscaling', 'failover'])('explains %s somewhere on the tour', (id) => {
    const text = CONCEPTS.find((c) => c.id === id)!.text;
    expect(TOUR_STEPS.some((s) => s.text.includes(text))).toBe(true);
  });

  it.each(['nav', 'service-card', 'pod', 'explain-toggle', 'traffic-service', 'apply-editor'])('points at %s', (part) => {
    expect(TOUR_STEPS.some((s) => s.target.some((t) => t.includes(part)))).toBe(true);
  });

  it('has unique step ids, each with a fallback target on its view', () => {
    expect(new Set(TOUR_STEPS.map((s) => s.id)).size).toBe(TOUR_STEPS.length);
    for (const s of TOUR_STEPS) if (s.route) expect(s.target.at(-1)).toBe(`[data-testid="view-${s.route}"]`);
  });
});
