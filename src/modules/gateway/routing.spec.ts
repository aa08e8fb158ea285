import { routeGatewayUrl } from './routing.js';

describe(routeGatewayUrl.name, () => {
  it.each([
    ['/gateway/api/v1/items?x=1', { service: 'api', path: '/v1/items?x=1' }],
    ['/proxy/api/v1/items', { service: 'api', path: '/v1/items' }],
    ['/gateway/api', { service: 'api', path: '/' }],
    ['/gateway/api/', { service: 'api', path: '/' }],
    ['/gateway/api?x=1', { service: 'api', path: '/?x=1' }],
    ['/gateway/api--preview/x', { service: 'api--preview', path: '/x' }],
    ['/gateway/my-svc-2/x', { service: 'my-svc-2', path: '/x' }],
    ['/gateway/', undefined],
    ['/gateway', undefined],
    ['/gatewayx/api', undefined],
    ['/other/api/x', undefined],
    ['/gateway/API/x', undefined],
    ['/gateway/-api/x', undefined],
    ['/gateway/api-/x', undefined],
    ['/gateway/a_b/x', undefined],
    [`/gateway/${'a'.repeat(64)}/x`, undefined],
  ])('%s -> %o', (url, want) => {
    const sut = routeGatewayUrl;
    expect(sut(url)).toEqual(want);
  });
});
