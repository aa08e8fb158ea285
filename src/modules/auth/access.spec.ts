import { crossSiteRefusal } from './access.js';

describe(crossSiteRefusal.name, () => {
  const host = '127.0.0.1:8080';
  it.each<[string, Record<string, string | undefined>, RegExp | null]>([
    ['curl and gridctl send neither header', { host }, null],
    ['the dashboard itself: same origin', { host, origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' }, null],
    ['behind a TLS proxy that keeps Host', { host: 'grid.example', origin: 'https://grid.example' }, null],
    ["a typed URL or bookmark (no initiator)", { host, 'sec-fetch-site': 'none' }, null],
    ["another site's form", { host, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, /another site's page \(Sec-Fetch-Site: cross-site\)/],
    ['another port on the same host is another site', { host, origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-site' }, /Sec-Fetch-Site: same-site/],
    ['an older browser: only Origin, foreign', { host, origin: 'http://evil.example' }, /Origin http:\/\/evil\.example is not this Grid/],
    ['a sandboxed page (a pod page through the gateway)', { host, origin: 'null' }, /Origin: null/],
    ['an Origin that is no URL', { host, origin: 'garbage' }, /not a URL/],
  ])('%s', (_, headers, want) => {
    const got = crossSiteRefusal(headers);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});
