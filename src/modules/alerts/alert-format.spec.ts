import { duration, formatNotification } from './alert-format.js';
import type { Notification } from './alert-machine.js';

const T = Date.parse('2030-01-01T12:01:05Z');

describe(formatNotification.name, () => {
  const sut = formatNotification;

  it.each([
    {
      why: 'a DOWN says how many pods are ready, for how long and since when',
      n: { subject: 'api', kind: 'service', at: T + 30_000, events: [], state: { health: 'DOWN', since: T, detail: '1 of 3 pods ready', previous: { health: 'UP', since: 0 }, changes: 1 } },
      title: 'api is DOWN',
      text: 'api is DOWN: 1 of 3 pods ready for 30 s (since 12:01:05 UTC).\n\n(service api, 2030-01-01T12:01:35.000Z)\nGrid: https://grid.example.com/\n',
    },
    {
      why: 'an UP says how long the DOWN lasted',
      n: { subject: 'api', kind: 'service', at: T + 245_000, events: [], state: { health: 'UP', since: T + 245_000, detail: '3 of 3 pods ready', previous: { health: 'DOWN', since: T }, changes: 1 } },
      title: 'api is UP',
      text: 'api is UP: 3 of 3 pods ready since 12:05:10 UTC.\nIt was DOWN for 4 min 5 s, from 12:01:05 UTC.\n\n(service api, 2030-01-01T12:05:10.000Z)\nGrid: https://grid.example.com/\n',
    },
    {
      why: 'an outage hidden by the cooldown is told, and the flapping counted',
      n: { subject: 'web', kind: 'group', at: T + 60_000, events: [], state: { health: 'UP', since: T + 20_000, detail: '2 of 3 targets healthy (active: v2)', previous: { health: 'UP', since: 0 }, missedDown: { since: T + 10_000, until: T + 20_000 }, changes: 2 } },
      title: 'web was DOWN 10 s, now UP',
      text: 'web is UP: 2 of 3 targets healthy (active: v2) since 12:01:25 UTC.\nIt was DOWN for 10 s, from 12:01:15 UTC to 12:01:25 UTC, while alerts were held back by the cooldown.\nIts state changed 2 times since the last alert (flapping).\n\n(failover group web, 2030-01-01T12:02:05.000Z)\nGrid: https://grid.example.com/\n',
    },
    {
      why: 'an event alone is its own title',
      n: { subject: 'web', kind: 'group', at: T, events: [{ type: 'failover.switched', at: T, text: 'web switched automatically from v1 to v2: 3 failed checks' }] },
      title: 'web: failover.switched',
      text: '12:01:05 UTC failover.switched: web switched automatically from v1 to v2: 3 failed checks\n\n(failover group web, 2030-01-01T12:01:05.000Z)\nGrid: https://grid.example.com/\n',
    },
  ] as Array<{ why: string; n: Notification; title: string; text: string }>)('$why', ({ n, title, text }) => {
    const m = sut(n, 'https://grid.example.com/');

    expect([m.title, m.text]).toEqual([title, text]);
  });

  it('leaves the link out when PUBLIC_UI_URL is not set', () => {
    const m = sut({ subject: 'api', kind: 'service', at: T, events: [{ type: 'rollout.aborted', at: T, text: 'x' }] });

    expect(m.text).not.toContain('Grid:');
    expect(m.payload.url).toBeNull();
  });
});

describe(duration.name, () => {
  it.each([
    [450, '450 ms'],
    [30_000, '30 s'],
    [245_000, '4 min 5 s'],
    [120_000, '2 min'],
    [7_380_000, '2 h 3 min'],
  ])('%d ms is %s', (ms, want) => {
    expect(duration(ms)).toBe(want);
  });
});
