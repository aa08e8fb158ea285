// The ideas a newcomer meets on this dashboard, in plain words: Help lists them, the tour
// walks through them on the page.

export interface Concept {
  id: string;
  title: string;
  text: string;
}

export const CONCEPTS: readonly Concept[] = [
  {
    id: 'desired-state',
    title: 'Desired state',
    text: 'You do not start processes by hand. You describe what you want in a spec (YAML: which program, how many replicas, its probes) and apply it. That description is the desired state; Grid stores it and keeps the world matching it.',
  },
  {
    id: 'reconcile',
    title: 'Reconcile',
    text: 'The reconciler compares desired state with what actually runs, again and again. Too few pods: it starts one. Too many, or an old version: it stops one. A crashed pod is just another gap to close, which is why Grid heals itself.',
  },
  {
    id: 'probes',
    title: 'Readiness vs liveness',
    text: 'A readiness probe asks "may this pod get traffic now?": failing it takes the pod out of the gateway but leaves it running. A liveness probe asks "is this pod stuck?": failing it gets the pod restarted.',
  },
  {
    id: 'backoff',
    title: 'Backoff',
    text: 'A pod that keeps crashing is restarted after longer and longer waits (CrashLoopBackOff), so a broken program does not burn the machine restarting in a tight loop. The wait resets once it stays up.',
  },
  {
    id: 'rollouts',
    title: 'Rollouts and analysis',
    text: 'A new version does not replace the old one at once. Rolling swaps pods a few at a time; Canary sends a small share of traffic (say 25%) to the new version first; BlueGreen brings the new one up beside the old and switches all at once. With analysis, Grid watches the canary\'s error rate and p99 latency at each step and aborts, sending all traffic back, if they are worse than the limits.',
  },
  {
    id: 'autoscaling',
    title: 'Autoscaling',
    text: 'With autoscale set, Grid changes the replica count itself: more pods when average CPU is above the target, fewer when it is below, within min and max, and waits a while before scaling down so a short lull does not remove pods it will need again.',
  },
  {
    id: 'failover',
    title: 'Failover',
    text: 'A failover group puts one name in front of several targets in priority order. Grid health-checks each one; when the active target fails several checks in a row, traffic moves to the first healthy one, and (with failback: auto) back once the first is healthy again.',
  },
  {
    id: 'explain',
    title: 'Events and explain mode',
    text: 'Everything Grid decides is an event: a pod started, became ready, was killed, a rollout step, a failover switch. Explain mode shows beside each one a sentence saying why it happened.',
  },
];

export interface TourStep {
  id: string;
  /** The view to show (hash route), if the step is about one. */
  route?: string;
  /** What to point at; the first selector that matches is used. */
  target: string[];
  title: string;
  text: string;
}

const concept = (id: string) => CONCEPTS.find((c) => c.id === id)!.text;

export const TOUR_STEPS: readonly TourStep[] = [
  { id: 'nav', target: ['header nav'], title: 'Find your way', text: 'Each tab is one view of the same Grid: services, traffic, events, failover, alerts, the audit trail, and an editor to apply YAML. Everything updates live.' },
  { id: 'desired', route: 'services', target: ['[data-testid="service-card"]', '[data-testid="view-services"]'], title: 'Services: desired vs actual', text: concept('desired-state') + ' Each card shows ready/desired pods and any difference between the spec and what runs.' },
  { id: 'reconcile', route: 'services', target: ['[data-testid="pod"]', '[data-testid="service-card"]', '[data-testid="view-services"]'], title: 'Pods and the reconciler', text: concept('reconcile') + ' Each tile is one pod, coloured and labelled by its phase.' },
  { id: 'probes', route: 'services', target: ['[data-testid="pod"]', '[data-testid="view-services"]'], title: 'Readiness vs liveness', text: concept('probes') + ' ' + concept('backoff') },
  { id: 'events', route: 'events', target: ['[data-testid="explain-toggle"]', '[data-testid="view-events"]'], title: 'Events, explained', text: concept('explain') + ' Turn it on with this button.' },
  { id: 'traffic', route: 'traffic', target: ['[data-testid="traffic-service"]', '[data-testid="view-traffic"]'], title: 'Traffic and rollouts', text: concept('rollouts') + ' The traffic view shows how requests split between versions.' },
  { id: 'autoscaling', route: 'services', target: ['[data-testid="service-card"]', '[data-testid="view-services"]'], title: 'Autoscaling', text: concept('autoscaling') },
  { id: 'failover', route: 'failover', target: ['[data-testid="failover-group"]', '[data-testid="view-failover"]'], title: 'Failover', text: concept('failover') },
  { id: 'apply', route: 'apply', target: ['[data-testid="apply-editor"]', '[data-testid="view-apply"]'], title: 'Try it yourself', text: 'Pick an example, press Preview to see what would change, then Apply. Or press Play Demo at the top to watch a whole release, a failed canary, a crash and a failover in under two minutes.' },
];
