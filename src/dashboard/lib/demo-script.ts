// Play Demo's script: the steps, what each one says in plain words, the manifests it applies,
// and a pure state machine for its progress. The runner (views/demo.tsx) does the I/O.

export const DEMO_SERVICE = 'demo-api';
export const DEMO_GROUP = 'demo-web';
export const DEMO_TARGETS = ['demo-web-a', 'demo-web-b'] as const;

export interface DemoStepDef {
  id: string;
  title: string;
  /** Said when the step begins. */
  intro: string;
  /** The view that shows what the step does. */
  view: 'services' | 'traffic' | 'failover';
}

export const DEMO_STEPS: readonly DemoStepDef[] = [
  {
    id: 'v1',
    view: 'services',
    title: 'Deploy v1',
    intro: `We ask Grid for 3 copies ("replicas") of ${DEMO_SERVICE} at v1. That request is the desired state; Grid's reconciler starts pods until what runs matches it, and each pod gets traffic only once its readiness probe passes.`,
  },
  {
    id: 'canary',
    view: 'traffic',
    title: 'Canary v2',
    intro: 'Now v2, as a canary: Grid starts v2 pods beside v1 and sends them only part of the traffic first. We send requests through the gateway so the analysis has numbers to judge (error rate, p99 latency). Healthy numbers let the rollout go to 100%.',
  },
  {
    id: 'bad-canary',
    view: 'traffic',
    title: 'Bad canary rolled back',
    intro: 'Next a broken version, v3-bad, which fails about half of its requests. The analysis sees the error rate above the 5% limit and aborts: all traffic goes back to the stable version, with no one having to press a button.',
  },
  {
    id: 'chaos',
    view: 'services',
    title: 'Chaos: kill a pod',
    intro: 'Chaos time: we kill one pod on purpose, as a crash or a lost machine would.',
  },
  {
    id: 'heal',
    view: 'services',
    title: 'Self-heal',
    intro: 'Desired state still says 3 replicas, so the reconciler notices the gap and starts a replacement. Watch the ready count come back to 3/3.',
  },
  {
    id: 'failover',
    view: 'failover',
    title: 'Failover',
    intro: `Last, a failover group ${DEMO_GROUP} over two services, ${DEMO_TARGETS.join(' and ')}. Grid checks each target's health; we break the active one and Grid moves the traffic to the healthy one.`,
  },
];

/**
 * The hash that shows step `step`, or null to leave the user where they are: once they went to
 * another view than the one the demo last showed them, they chose what to look at.
 */
export function demoRouteFor(step: number, hash: string, lastShown: string | null): string | null {
  if (lastShown !== null && hash !== lastShown) return null;
  return `#/${DEMO_STEPS[step].view}`;
}

export type StepState = 'pending' | 'running' | 'done' | 'failed';

export interface DemoState {
  status: 'idle' | 'running' | 'done' | 'stopped' | 'failed';
  steps: readonly { id: string; state: StepState }[];
  /** Index of the running step, or -1. */
  current: number;
  /** Narration, oldest first. */
  lines: readonly { step: string | null; text: string }[];
  startedAt: number | null;
  endedAt: number | null;
}

export type DemoAction =
  | { type: 'start'; at: number }
  | { type: 'say'; text: string }
  | { type: 'next'; at: number }
  | { type: 'fail'; text: string; at: number }
  | { type: 'stop'; at: number };

export function initialDemo(): DemoState {
  return { status: 'idle', steps: DEMO_STEPS.map((s) => ({ id: s.id, state: 'pending' })), current: -1, lines: [], startedAt: null, endedAt: null };
}

function setStep(steps: DemoState['steps'], i: number, state: StepState): DemoState['steps'] {
  return steps.map((s, j) => (j === i ? { ...s, state } : s));
}

/** start → step 0 runs; next → the running step is done and the following one runs (or all are done). */
export function demoReducer(s: DemoState, a: DemoAction): DemoState {
  const stepId = s.current >= 0 ? DEMO_STEPS[s.current].id : null;
  switch (a.type) {
    case 'start': {
      const fresh = initialDemo();
      return { ...fresh, status: 'running', current: 0, steps: setStep(fresh.steps, 0, 'running'), lines: [{ step: DEMO_STEPS[0].id, text: DEMO_STEPS[0].intro }], startedAt: a.at };
    }
    case 'say':
      return s.status === 'running' ? { ...s, lines: [...s.lines, { step: stepId, text: a.text }] } : s;
    case 'next': {
      if (s.status !== 'running') return s;
      const done = setStep(s.steps, s.current, 'done');
      const n = s.current + 1;
      if (n >= DEMO_STEPS.length) {
        return { ...s, status: 'done', steps: done, current: -1, endedAt: a.at, lines: [...s.lines, { step: null, text: `That was the whole loop, in ${Math.round((a.at - (s.startedAt ?? a.at)) / 1000)} s. The demo's services stay so you can look around; Stop removes them.` }] };
      }
      return { ...s, current: n, steps: setStep(done, n, 'running'), lines: [...s.lines, { step: DEMO_STEPS[n].id, text: DEMO_STEPS[n].intro }] };
    }
    case 'fail':
      if (s.status !== 'running') return s;
      return { ...s, status: 'failed', steps: setStep(s.steps, s.current, 'failed'), current: -1, endedAt: a.at, lines: [...s.lines, { step: stepId, text: a.text }] };
    case 'stop':
      if (s.status === 'idle') return s;
      return {
        ...s,
        status: 'stopped',
        current: -1,
        steps: s.steps.map((st) => (st.state === 'running' ? { ...st, state: 'pending' } : st)),
        endedAt: s.endedAt ?? a.at,
        lines: [...s.lines, { step: null, text: "Stopped. The demo's services and failover group are removed; yours were never touched." }],
      };
  }
}

const PROBES = `  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1 }
  livenessProbe: { httpGet: { path: /health/live }, periodSeconds: 2 }`;

/** The demo service at a version; a canary rollout with a fast analysis from v2 on. */
export function apiManifest(version: string, failRate = 0): string {
  const rollout =
    version === 'v1'
      ? ''
      : `
  rollout:
    strategy: Canary
    steps:
      - setWeight: 34
      - pause: { duration: 8s }
      - setWeight: 100
    analysis: { interval: 3s, minRequests: 5, maxErrorRate: 0.05, maxP99LatencyMs: 1000, failureLimit: 1 }`;
  const fail = failRate > 0 ? `\n    - { name: FAIL_RATE, value: "${failRate}" }` : '';
  return `# Play Demo: ${DEMO_SERVICE} at ${version}
apiVersion: v1
kind: Service
metadata:
  name: ${DEMO_SERVICE}
spec:
  replicas: 3
  command: ["node", "demo-services/versioned/server.js"]
  env:
    - { name: VERSION, value: ${version} }${fail}
${PROBES}${rollout}
`;
}

/** Two one-pod services and a failover group over them that notices a broken target in ~1 s. */
export function failoverManifest(): string {
  const svc = (name: string, version: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  replicas: 1
  command: ["node", "demo-services/versioned/server.js"]
  env:
    - { name: VERSION, value: ${version} }
  readinessProbe: { httpGet: { path: /health/live }, periodSeconds: 1 }
`;
  return `# Play Demo: failover group ${DEMO_GROUP}
${svc(DEMO_TARGETS[0], 'v1')}---
${svc(DEMO_TARGETS[1], 'v2')}---
apiVersion: v1
kind: FailoverGroup
metadata:
  name: ${DEMO_GROUP}
spec:
  targets:
    - service: ${DEMO_TARGETS[0]}
    - service: ${DEMO_TARGETS[1]}
  healthCheck:
    path: /health
    intervalSeconds: 0.5
    timeoutSeconds: 1
    expectJson: { status: healthy }
    failureThreshold: 2
    successThreshold: 1
  cooldownSeconds: 0
  failback: manual
`;
}
