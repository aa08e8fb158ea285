import { parseAllDocuments } from 'yaml';
import { apiManifest, demoReducer, demoRouteFor, failoverManifest, initialDemo, DEMO_STEPS, type DemoAction, type DemoState } from './demo-script.js';

const run = (actions: DemoAction[]): DemoState => actions.reduce(demoReducer, initialDemo());

describe(demoReducer.name, () => {
  it('starts with the first step running and its introduction said', () => {
    const sut = run([{ type: 'start', at: 0 }]);
    expect(sut.status).toBe('running');
    expect(sut.steps.map((s) => s.state)).toEqual(['running', 'pending', 'pending', 'pending', 'pending', 'pending']);
    expect(sut.lines).toEqual([{ step: 'v1', text: DEMO_STEPS[0].intro }]);
  });

  it('walks every step to done and says how long it took', () => {
    const sut = run([{ type: 'start', at: 0 }, ...DEMO_STEPS.map((_, i) => ({ type: 'next' as const, at: (i + 1) * 10_000 }))]);
    expect(sut.status).toBe('done');
    expect(sut.steps.every((s) => s.state === 'done')).toBe(true);
    expect(sut.endedAt).toBe(60_000);
    expect(sut.lines.at(-1)!.text).toContain('in 60 s');
  });

  it.each<[string, DemoAction[], DemoState['status'], string[]]>([
    ['stop mid-way leaves done steps done and the running one pending', [{ type: 'start', at: 0 }, { type: 'next', at: 1 }, { type: 'stop', at: 2 }], 'stopped', ['done', 'pending']],
    ['a failure marks the running step', [{ type: 'start', at: 0 }, { type: 'next', at: 1 }, { type: 'fail', text: 'timed out', at: 2 }], 'failed', ['done', 'failed']],
    ['next after stop changes nothing', [{ type: 'start', at: 0 }, { type: 'stop', at: 1 }, { type: 'next', at: 2 }], 'stopped', ['pending', 'pending']],
    ['stop before start changes nothing', [{ type: 'stop', at: 1 }], 'idle', ['pending', 'pending']],
  ])('%s', (_, actions, status, firstTwo) => {
    const sut = run(actions);
    expect(sut.status).toBe(status);
    expect(sut.steps.slice(0, 2).map((s) => s.state)).toEqual(firstTwo);
  });

  it('narrates within the running step, and not after it ended', () => {
    const sut = run([{ type: 'start', at: 0 }, { type: 'next', at: 1 }, { type: 'say', text: 'v2 is at 34%' }, { type: 'stop', at: 2 }, { type: 'say', text: 'late' }]);
    expect(sut.lines.filter((l) => l.step === 'canary').map((l) => l.text)).toEqual([DEMO_STEPS[1].intro, 'v2 is at 34%']);
    expect(sut.lines.some((l) => l.text === 'late')).toBe(false);
  });
});

describe('demo manifests', () => {
  const names = (text: string) => parseAllDocuments(text as string).map((d: any) => d.toJS().metadata.name as string);
  it('use only demo-* names, so they never touch the user\'s services', () => {
    for (const text of [apiManifest('v1'), apiManifest('v2'), apiManifest('v3-bad', 0.5), failoverManifest()]) {
      for (const name of names(text)) expect(name).toMatch(/^demo-/);
    }
  });

  it('make the bad canary fail requests and judge it by an analysis', () => {
    const sut = (parseAllDocuments(apiManifest('v3-bad', 0.5)) as any)[0].toJS();
    expect(sut.spec.env).toContainEqual({ name: 'FAIL_RATE', value: '0.5' });
    expect(sut.spec.rollout.analysis.maxErrorRate).toBeLessThan(0.5);
    expect((parseAllDocuments(apiManifest('v1')) as any)[0].toJS().spec.rollout).toBeUndefined();
  });
});

describe(demoRouteFor.name, () => {
  it.each([
    ['the first step, from anywhere', 0, '#/events', null, '#/services'],
    ['the first step, on a fresh page', 0, '', null, '#/services'],
    ['a canary step, where the demo left them', 1, '#/services', '#/services', '#/traffic'],
    ['the failover step', 5, '#/services', '#/services', '#/failover'],
    ['the same view again', 4, '#/services', '#/services', '#/services'],
    ['after the user went elsewhere', 2, '#/audit', '#/traffic', null],
    ['after the user came back', 3, '#/traffic', '#/traffic', '#/services'],
  ])('%s', (_, step, hash, lastShown, want) => {
    expect(demoRouteFor(step as number, hash as string, lastShown as string | null)).toBe(want);
  });

  it('has a view for every step', () => {
    expect(DEMO_STEPS.map((s) => s.view)).toEqual(['services', 'traffic', 'traffic', 'services', 'services', 'failover']);
  });
});
