import { GridException } from '../../common/errors/grid.exception.js';
import { actionOf, describeRequest, SUMMARY_MAX, writesNothing, type RequestFacts } from './audit-request.js';

function req(method: string, route: string, over: Partial<RequestFacts> = {}): RequestFacts {
  return { method, route, params: {}, query: {}, body: undefined, ...over };
}

describe(actionOf.name, () => {
  const sut = actionOf;
  it.each([
    ['POST', '/apply', 'apply'],
    ['DELETE', '/services/:name', 'service.delete'],
    ['POST', '/scale', 'scale'],
    ['POST', '/chaos/kill', 'chaos.kill'],
    ['POST', '/load', 'chaos.load'],
    ['POST', '/services/:name/rollout/promote', 'rollout.promote'],
    ['POST', '/services/:name/rollout/undo', 'rollout.undo'],
    ['POST', '/failover/:group/switch', 'failover.switch'],
    ['POST', '/alerts/test', 'alerts.test'],
    ['POST', '/users', 'user.create'],
    ['DELETE', '/users/:name', 'user.delete'],
    ['PUT', '/broadcast/:service/*', 'broadcast'],
    ['DELETE', '/widgets/:id', 'widgets.delete'],
    ['POST', '/:x', 'post'],
  ])('%s %s → %s', (method, route, action) => {
    expect(sut(method, route)).toBe(action);
  });
});

describe(writesNothing.name, () => {
  it.each<[string, RequestFacts, boolean]>([
    ['a dry run (gridctl diff)', req('POST', '/apply', { query: { dryRun: 'All' } }), true],
    ['a dry run spelled true', req('POST', '/apply', { query: { dryRun: 'true' } }), true],
    ['a malformed dry run: a 400 that stores nothing', req('POST', '/apply', { query: { dryRun: 'yes' } }), true],
    ['an apply', req('POST', '/apply'), false],
    ['an apply with a mistyped ?dryrun= (a 400, but judged as the apply it claims to be)', req('POST', '/apply', { query: { dryrun: 'All' } }), false],
    ['a scale', req('POST', '/scale', { query: { service: 'api', dryRun: 'All' } }), false],
    ['a delete', req('DELETE', '/services/:name', { params: { name: 'api' }, query: { dryRun: 'All' } }), false],
  ])('%s → %s', (_name, facts, expected) => {
    expect(writesNothing(facts)).toBe(expected);
  });
});

describe(describeRequest.name, () => {
  const sut = describeRequest;

  it.each<[string, RequestFacts, unknown, unknown, { action: string; target: string | null; summary: string }]>([
    [
      'an apply: what the answer says was configured',
      req('POST', '/apply', { body: 'apiVersion: v1\nkind: Service\n...' }),
      { applied: [{ service: 'api', result: 'configured' }, { service: 'web', result: 'created' }, { failoverGroup: 'front', result: 'unchanged', generation: 1 }] },
      undefined,
      { action: 'apply', target: 'api,web,front', summary: 'api configured, web created, group front unchanged' },
    ],
    [
      'a refused apply: the fields named, not the messages',
      req('POST', '/apply'),
      undefined,
      GridException.invalid('spec.env[0].value', 'must be short (got "hunter2hunter2")'),
      { action: 'apply', target: null, summary: 'invalid: spec.env[0].value' },
    ],
    [
      'a dry run is not an apply: its own action, what it would do',
      req('POST', '/apply', { query: { dryRun: 'All' } }),
      { dryRun: true, applied: [{ service: 'api', result: 'configured', changes: [] }] },
      undefined,
      { action: 'apply.dry-run', target: 'api', summary: 'api configured' },
    ],
    ['a pod chaos toggle', req('POST', '/pods/:id/chaos/:toggle', { params: { id: 'api-x1', toggle: 'fail' }, query: { rate: '0.5' } }), {}, undefined, { action: 'chaos.pod', target: 'api-x1', summary: 'toggle=fail rate=0.5' }],
    ['a kill by pod', req('POST', '/chaos/kill', { query: { pod: 'api-x1' } }), {}, undefined, { action: 'chaos.kill', target: 'api-x1', summary: 'pod=api-x1' }],
    ['a delete', req('DELETE', '/services/:name', { params: { name: 'api' } }), { deleted: 'api' }, undefined, { action: 'service.delete', target: 'api', summary: '' }],
    ['a scale', req('POST', '/scale', { query: { service: 'api', delta: '2' } }), {}, undefined, { action: 'scale', target: 'api', summary: 'service=api delta=2' }],
    [
      'a refused scale',
      req('POST', '/scale', { query: { service: 'api', delta: 'x' } }),
      undefined,
      GridException.invalid('delta', 'must be an integer'),
      { action: 'scale', target: 'api', summary: 'service=api delta=x; invalid: delta' },
    ],
    ['a promote', req('POST', '/services/:name/rollout/promote', { params: { name: 'api' }, query: { full: 'true' } }), {}, undefined, { action: 'rollout.promote', target: 'api', summary: 'full=true' }],
    ['a failover switch', req('POST', '/failover/:group/switch', { params: { group: 'front' }, query: { to: 'v2' } }), {}, undefined, { action: 'failover.switch', target: 'front', summary: 'to=v2' }],
    [
      'a new user: name and role, never the password',
      req('POST', '/users', { body: JSON.stringify({ name: 'ana', password: 'correct horse', role: 'operator' }) }),
      {},
      undefined,
      { action: 'user.create', target: 'ana', summary: 'name=ana role=operator' },
    ],
    ['a new user with an unreadable body', req('POST', '/users', { body: '{"name": "ana", "password": "x' }), undefined, new Error('bad'), { action: 'user.create', target: null, summary: 'user' }],
    [
      'query values whose names look secret',
      req('POST', '/alerts/test', { query: { token: 's3cr3t', apiKey: 'k', password: 'p', to: 'ops' } }),
      {},
      undefined,
      { action: 'alerts.test', target: null, summary: 'token=[withheld] apiKey=[withheld] password=[withheld] to=ops' },
    ],
    [
      'a broadcast: the pods path without its query',
      req('POST', '/broadcast/:service/*', { params: { service: 'web', '*': 'chaos/cpu?token=abc' }, body: 'secret body' }),
      {},
      undefined,
      { action: 'broadcast', target: 'web', summary: 'POST /chaos/cpu' },
    ],
  ])('records %s', (_name, facts, answer, error, expected) => {
    expect(sut(facts, answer, error)).toEqual(expected);
  });

  it('keeps a summary short', () => {
    const applied = Array.from({ length: 200 }, (_, i) => ({ service: `service-${i}`, result: 'created' }));
    const r = sut(req('POST', '/apply'), { applied }, undefined);
    expect(r.summary.length).toBe(SUMMARY_MAX);
    expect(r.target!.length).toBeLessThanOrEqual(100);
  });
});
