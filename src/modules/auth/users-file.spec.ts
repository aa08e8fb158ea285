import { ConfigError } from '../../common/config/config.js';
import { parseUsersFile } from './users-file.js';

const HASH = `scrypt$16384$8$1$${'A'.repeat(22)}$${'B'.repeat(43)}`;
const FILE = '/etc/grid/users.yaml';

describe(parseUsersFile.name, () => {
  const sut = parseUsersFile;

  it('reads users with roles and hashes', () => {
    expect(sut(`users:\n  - {name: vera, role: viewer, passwordHash: "${HASH}"}\n  - {name: otto, role: operator, passwordHash: "${HASH}"}\n`, FILE)).toEqual([
      { name: 'vera', role: 'viewer', passwordHash: HASH },
      { name: 'otto', role: 'operator', passwordHash: HASH },
    ]);
  });

  it.each([
    { text: 'users: [', want: `${FILE}: not valid YAML` },
    { text: 'people: []', want: `${FILE}: users: must be a list` },
    { text: 'users: [42]', want: `${FILE}: users[0]: must be a mapping` },
    { text: `users: [{name: Admin, role: operator, passwordHash: "${HASH}"}]`, want: `${FILE}: users[0] ("Admin"): name must match` },
    { text: `users: [{name: a, role: root, passwordHash: "${HASH}"}]`, want: `${FILE}: users[0] ("a"): role must be one of viewer, operator` },
    { text: 'users: [{name: admin, role: operator, password: secure123}]', want: `${FILE}: users[0] ("admin"): unknown field password (store a hash` },
    { text: 'users: [{name: admin, role: operator, passwordHash: secure123}]', want: `${FILE}: users[0] ("admin"): passwordHash must be scrypt$N$r$p$salt$hash` },
    { text: `users: [{name: a, role: viewer, passwordHash: "${HASH}"}, {name: a, role: viewer, passwordHash: "${HASH}"}]`, want: `${FILE}: users[1] ("a"): name is used twice` },
  ])('refuses $text naming the file and the entry', ({ text, want }) => {
    let err: unknown;
    try {
      sut(text, FILE);
    } catch (e) {
      err = e;
    }

    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('GRID_USERS_FILE');
    expect((err as ConfigError).message).toContain(`GRID_USERS_FILE: ${want}`);
  });
});
