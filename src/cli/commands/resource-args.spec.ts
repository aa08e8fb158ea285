import { UsageError } from '../errors.js';
import { kindOf, namedRefs, parseResourceArgs, scaleTarget } from './resource-args.js';

describe(kindOf.name, () => {
  it.each([
    ['svc', 'services'],
    ['Service', 'services'],
    ['services', 'services'],
    ['po', 'pods'],
    ['pod', 'pods'],
    ['fg', 'failovergroups'],
    ['failovergroup', 'failovergroups'],
    ['ev', 'events'],
    ['event', 'events'],
  ])('%s → %s', (raw, want) => expect(kindOf(raw)).toBe(want));

  it.each([
    ['deploy', undefined, "unknown resource type 'deploy': one of services (svc), pods (po), failovergroups (fg), events (ev), volumes (vol, pvc)"],
    ['events', ['services', 'pods', 'failovergroups'] as const, "unknown resource type 'events': one of services (svc), pods (po), failovergroups (fg)"],
  ])('%s is a usage error listing the allowed types', (raw, allowed, message) => {
    expect(() => kindOf(raw, allowed)).toThrow(new UsageError(message));
  });
});

describe(parseResourceArgs.name, () => {
  it.each([
    [['svc'], [{ kind: 'services' }]],
    [['svc', 'api'], [{ kind: 'services', name: 'api' }]],
    [['svc', 'a', 'b'], [{ kind: 'services', name: 'a' }, { kind: 'services', name: 'b' }]],
    [['service/api'], [{ kind: 'services', name: 'api' }]],
    [['svc/api', 'pod/web-x'], [{ kind: 'services', name: 'api' }, { kind: 'pods', name: 'web-x' }]],
    [['failovergroup/shop', 'fg/shop2'], [{ kind: 'failovergroups', name: 'shop' }, { kind: 'failovergroups', name: 'shop2' }]],
    [['ev/42'], [{ kind: 'events', name: '42' }]],
  ])('%j → %j', (args, want) => expect(parseResourceArgs(args)).toEqual(want));

  it.each([
    [[], /give a resource type/],
    [['svc', 'a/b'], /'a\/b': give either TYPE NAME… or TYPE\/NAME…, not both/],
    [['svc/a', 'b'], /'b': arguments in TYPE\/NAME form have exactly one '\/'/],
    [['svc/a/b'], /exactly one '\/'/],
    [['svc/'], /needs both a type and a name/],
    [['/api'], /needs both a type and a name/],
    [['deploy/api'], /unknown resource type 'deploy'/],
  ])('%j is a usage error', (args, message) => {
    expect(() => parseResourceArgs(args)).toThrow(UsageError);
    expect(() => parseResourceArgs(args)).toThrow(message);
  });
});

describe(namedRefs.name, () => {
  it('takes names in either form', () => expect(namedRefs(['service/a', 'fg/b'], ['services', 'failovergroups'], 'delete')).toEqual([{ kind: 'services', name: 'a' }, { kind: 'failovergroups', name: 'b' }]));
  it('refuses a type without a name', () => expect(() => namedRefs(['svc'], ['services'], 'delete')).toThrow('delete svc: give the name of at least one service'));
  it('refuses a type the command does not take', () => expect(() => namedRefs(['pod/x'], ['services', 'failovergroups'], 'delete')).toThrow("unknown resource type 'pod'"));
});

describe(scaleTarget.name, () => {
  it.each([
    [['service', 'api'], 'api'],
    [['svc/api'], 'api'],
    [['services', 'api'], 'api'],
  ])('%j → %s', (args, want) => expect(scaleTarget(args)).toBe(want));

  it.each([
    [['pod', 'web-x'], /unknown resource type 'pod': one of services \(svc\)/],
    [['service'], /give the name of at least one service/],
    [['svc/a', 'svc/b'], /one service at a time/],
  ])('%j is a usage error', (args, message) => expect(() => scaleTarget(args)).toThrow(message));
});
