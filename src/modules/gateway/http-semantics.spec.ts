import {
  errorBody,
  F_TIMEOUT,
  F_CONNECT,
  parseDecimal,
  REQUEST_HEADER_KIND,
  REQUEST_HEADER_LENGTH,
  RESPONSE_HEADER_KIND,
  RESPONSE_HEADER_LENGTH,
  RQ_DROP,
  RS_DROP,
  upstreamFailure,
} from './http-semantics.js';

describe(parseDecimal.name, () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['007', 7],
    ['999999999999999', 999_999_999_999_999],
    ['', -1],
    ['1000000000000000', -1],
    ['+1', -1],
    ['-1', -1],
    [' 1', -1],
    ['1 ', -1],
    ['1,1', -1],
    ['0x10', -1],
    ['1.0', -1],
    ['١', -1],
  ])('%j -> %d', (value, expected) => {
    const sut = parseDecimal;
    expect(sut(value)).toBe(expected);
  });
});

describe('header tables', () => {
  it.each(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'transfer-encoding'])(
    'hop-by-hop %s is acted on in requests and responses',
    (name) => {
      expect(REQUEST_HEADER_KIND.has(name)).toBe(true);
      expect(RESPONSE_HEADER_KIND.has(name)).toBe(true);
    },
  );

  it.each(['x-forwarded-proto', 'x-forwarded-host', 'keep-alive', 'te'])('request header %s is dropped', (name) => {
    expect(REQUEST_HEADER_KIND.get(name)).toBe(RQ_DROP);
  });

  it.each(['proxy-connection', 'te', 'trailer', 'upgrade'])('response header %s is dropped', (name) => {
    expect(RESPONSE_HEADER_KIND.get(name)).toBe(RS_DROP);
  });

  it('length tables mark every listed name (names of other lengths skip the lookup)', () => {
    for (const name of REQUEST_HEADER_KIND.keys()) expect(REQUEST_HEADER_LENGTH[name.length]).toBe(1);
    for (const name of RESPONSE_HEADER_KIND.keys()) expect(RESPONSE_HEADER_LENGTH[name.length]).toBe(1);
    expect(REQUEST_HEADER_LENGTH[1]).toBe(0);
    expect(RESPONSE_HEADER_LENGTH[1]).toBe(0);
  });
});

describe(errorBody.name, () => {
  it.each([
    [502, 'x', '{"statusCode":502,"error":"Bad Gateway","message":"x"}'],
    [503, "no ready pods for service 'api'", `{"statusCode":503,"error":"Service Unavailable","message":"no ready pods for service 'api'"}`],
    [504, 'a "quoted" word', '{"statusCode":504,"error":"Gateway Timeout","message":"a \\"quoted\\" word"}'],
  ] as const)('%d %j', (status, message, expected) => {
    expect(errorBody(status, message)).toBe(expected);
  });
});

describe(upstreamFailure.name, () => {
  it.each([
    [F_TIMEOUT, false, 504, "pod 'p1' of service 'api' sent no response within 30000 ms"],
    [F_CONNECT, false, 502, "upstream error from pod 'p1' of service 'api': ECONNREFUSED"],
    [F_CONNECT, true, 502, "upstream error from pod 'p1' of service 'api': ECONNREFUSED (after a retry)"],
  ])('kind %d, retried %s -> %d', (kind, retried, status, message) => {
    expect(upstreamFailure(kind, 'api', 'p1', 'ECONNREFUSED', retried, 30_000)).toEqual({ status, message });
  });
});
