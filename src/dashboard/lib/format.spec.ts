import { actorParts, clockTime } from './format.js';

describe(actorParts.name, () => {
  it.each([
    ['anonymous', 'anonymous', { name: 'anonymous', kind: null }],
    ['admin', 'user', { name: 'admin', kind: 'user' }],
    ['ci', 'api-key', { name: 'ci', kind: 'api-key' }],
    ['grid', 'system', { name: 'grid', kind: 'system' }],
    ['x', '', { name: 'x', kind: null }],
  ])('%s / %s', (actor, kind, want) => {
    expect(actorParts(actor, kind)).toEqual(want);
  });
});

describe(clockTime.name, () => {
  it('is HH:MM:SS for a number and an ISO string alike', () => {
    const t = new Date(2024, 0, 2, 13, 4, 5).getTime();
    expect(clockTime(t)).toMatch(/^13.04.05$/);
    expect(clockTime(new Date(t).toISOString())).toBe(clockTime(t));
  });
});
