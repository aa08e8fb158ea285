import type { ServiceSpec } from './spec.types.js';
import { versionOf } from './specs.service.js';
import { specFixture } from '../../../test/utils/fixtures.js';

function spec(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return specFixture(overrides);
}

describe(versionOf.name, () => {
  const sut = versionOf;

  it.each([
    { name: 'sim image version', s: spec({ image: 'local://demo@v2' }), want: 'v2' },
    { name: 'sim image version wins over VERSION', s: spec({ image: 'local://demo@v2', env: [{ name: 'VERSION', value: 'v1' }] }), want: 'v2' },
    {
      name: 'VERSION env of a process service',
      s: spec({ runtime: 'process', image: undefined, command: ['node', 'app.js'], env: [{ name: 'PORT_HINT', value: 'x' }, { name: 'VERSION', value: 'v7' }] }),
      want: 'v7',
    },
    { name: 'VERSION env wins over the docker tag', s: spec({ runtime: 'docker', image: 'nginx:1.25', env: [{ name: 'VERSION', value: 'blue' }] }), want: 'blue' },
    { name: 'docker image tag', s: spec({ runtime: 'docker', image: 'nginx:1.25' }), want: '1.25' },
    { name: 'docker tag after a registry port', s: spec({ runtime: 'docker', image: 'registry.local:5000/team/api:2.0.1' }), want: '2.0.1' },
    { name: 'registry port is not a tag', s: spec({ runtime: 'docker', image: 'registry.local:5000/team/api' }), want: 'r4' },
    { name: 'untagged docker image', s: spec({ runtime: 'docker', image: 'nginx' }), want: 'r4' },
    { name: 'empty VERSION falls through', s: spec({ runtime: 'process', image: undefined, command: ['app'], env: [{ name: 'VERSION', value: '' }] }), want: 'r4' },
    { name: 'nothing to go on', s: spec({ runtime: 'process', image: undefined, command: ['app'] }), want: 'r4' },
  ])('$name → $want', ({ s, want }) => {
    expect(sut(s, 4)).toBe(want);
  });
});
