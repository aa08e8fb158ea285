import type { ConfigFile } from '../config.js';
import { UsageError } from '../errors.js';
import { authOf, configView, contextRows, setContext } from './config-cmd.js';

const cfg: ConfigFile = {
  currentContext: 'prod',
  contexts: [
    { name: 'local', server: 'http://127.0.0.1:8080' },
    { name: 'prod', server: 'https://grid.example.com', apiKey: 'k3y' },
    { name: 'ops', server: 'https://grid.example.com', user: 'ops', password: 'pw' },
  ],
};

describe(configView.name, () => {
  it.each([
    [false, 'REDACTED', 'REDACTED'],
    [true, 'k3y', 'pw'],
  ])('raw %s', (raw, key, password) => {
    expect(configView(cfg, raw)).toEqual({
      'current-context': 'prod',
      contexts: [
        { name: 'local', server: 'http://127.0.0.1:8080' },
        { name: 'prod', server: 'https://grid.example.com', 'api-key': key },
        { name: 'ops', server: 'https://grid.example.com', user: 'ops', password },
      ],
    });
  });
});

describe(contextRows.name, () => {
  it('marks the current context and says how each authenticates', () => {
    expect(contextRows(cfg)).toEqual([
      [' ', 'local', 'http://127.0.0.1:8080', 'none'],
      ['*', 'prod', 'https://grid.example.com', 'api-key'],
      [' ', 'ops', 'https://grid.example.com', 'user ops'],
    ]);
    expect(authOf({ name: 'x', server: 'http://x' })).toBe('none');
  });
});

describe(setContext.name, () => {
  const sut = setContext;
  const find = (c: ConfigFile, name: string) => c.contexts.find((x) => x.name === name);

  it.each([
    ['creates one with a normalized server', 'new', { server: '127.0.0.1:9090' }, { name: 'new', server: 'http://127.0.0.1:9090' }, true],
    ['changes only the server of an existing one', 'prod', { server: 'https://other.example.com/' }, { name: 'prod', server: 'https://other.example.com', apiKey: 'k3y' }, false],
    ['a user replaces the API key', 'prod', { user: 'ann', password: 'x' }, { name: 'prod', server: 'https://grid.example.com', user: 'ann', password: 'x' }, false],
    ['an API key replaces the user and password', 'ops', { apiKey: 'new' }, { name: 'ops', server: 'https://grid.example.com', apiKey: 'new' }, false],
    ['a new password keeps the user', 'ops', { password: 'pw2' }, { name: 'ops', server: 'https://grid.example.com', user: 'ops', password: 'pw2' }, false],
  ])('%s', (_what, name, change, expected, created) => {
    const r = sut(cfg, name, change);

    expect(find(r.cfg, name)).toEqual(expected);
    expect(r.created).toBe(created);
    expect(r.cfg.currentContext).toBe('prod');
    expect(r.cfg.contexts.map((c) => c.name)).toEqual(created ? ['local', 'prod', 'ops', name] : ['local', 'prod', 'ops']);
  });

  it('--current makes it the current context', () => {
    expect(sut(cfg, 'local', { current: true }).cfg.currentContext).toBe('local');
  });

  it.each([
    ['new', {}, 'a new context needs --server'],
    ['new', { server: 'ftp://x' }, '--server: must be http:// or https://'],
    ['prod', { password: 'x' }, '--password: needs --user'],
    ['has space', { server: 'http://x' }, 'without spaces'],
  ])('%s %j is a usage error', (name, change, message) => {
    expect(() => sut(cfg, name, change)).toThrow(UsageError);
    expect(() => sut(cfg, name, change)).toThrow(message);
  });
});
