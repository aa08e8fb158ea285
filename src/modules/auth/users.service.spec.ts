import * as fs from 'node:fs';
import * as path from 'node:path';
import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
import type { GridConfig } from '../../common/config/config.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { hashPassword } from './password-hash.js';
import { UserEntity } from './user.entity.js';
import { UsersService } from './users.service.js';

describe(UsersService.name, () => {
  let store: TestStore;
  let sut: UsersService;

  async function open(config: Partial<GridConfig> = {}, dir?: string): Promise<void> {
    store = await openTestStore({ dir });
    sut = new UsersService(store.ds.getRepository(UserEntity), { apiKeys: [], ...config } as GridConfig, store.clock);
    await sut.load();
  }
  async function restart(config: Partial<GridConfig>): Promise<void> {
    const dir = store.dir;
    await store.close();
    await open(config, dir);
  }
  const failure = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => (e instanceof GridException ? e.message : e));

  afterEach(async () => {
    await store.close();
    removeStore(store.dir);
  });

  it('stores only an scrypt hash and verifies the password against it', async () => {
    await open();
    await sut.create({ name: 'vera', password: 'viewer password', role: 'viewer' });

    const rows = await store.ds.query('SELECT name, role, password_hash AS hash FROM users');
    expect(rows).toEqual([{ name: 'vera', role: 'viewer', hash: expect.stringMatching(/^scrypt\$/) }]);
    expect(JSON.stringify(rows)).not.toContain('viewer password');
    expect(await sut.verify('vera', 'viewer password')).toBe('viewer');
    expect(await sut.verify('vera', 'viewer passwordX')).toBeNull();
    expect(await sut.verify('nobody', 'viewer password')).toBeNull();
  });

  it('spends scrypt time on an unknown user as on a known one', async () => {
    await open();
    await sut.create({ name: 'vera', password: 'viewer password', role: 'viewer' });
    const time = async (name: string) => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < 3; i++) await sut.verify(name, `wrong ${i}`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const known = await time('vera');
    const unknown = await time('nobody');

    // A skipped scrypt would take well under 1% of the known user's time.
    expect(unknown).toBeGreaterThan(known * 0.3);
  });

  it('forgets a deleted user at once, even one that just logged in', async () => {
    await open({ apiKeys: [{ name: 'ci', key: 'x'.repeat(16) }] });
    await sut.create({ name: 'otto', password: 'operator password', role: 'operator' });
    expect(await sut.verify('otto', 'operator password')).toBe('operator');

    await sut.remove('otto');

    expect(await sut.verify('otto', 'operator password')).toBeNull();
    expect(sut.usersExist).toBe(false);
  });

  it.each([
    { body: { name: 'Bad Name', password: 'long enough pw', role: 'viewer' }, want: 'name: must match' },
    { body: { name: 'eve', password: 'short', role: 'viewer' }, want: 'password: must be a string of at least 12 characters' },
    { body: { name: 'eve', password: 'long enough pw', role: 'root' }, want: 'role: must be one of viewer, operator' },
    { body: 'nonsense', want: 'name: must match' },
  ])('refuses $body: $want', async ({ body, want }) => {
    await open();

    expect(await failure(sut.create(body))).toContain(want);
    expect(sut.list()).toEqual([]);
  });

  it('refuses a second user of the same name and the removal of the last operator while no key exists', async () => {
    await open();
    await sut.create({ name: 'otto', password: 'operator password', role: 'operator' });

    expect(await failure(sut.create({ name: 'otto', password: 'other password', role: 'viewer' }))).toContain("user 'otto' already exists");
    expect(await failure(sut.remove('otto'))).toContain('last operator and no API key');
    expect(await failure(sut.remove('nobody'))).toBe("user 'nobody' not found");
  });

  it('makes the users file and GRID_ADMIN_PASSWORD true at every boot, keeping users added through the API', async () => {
    await open();
    const file = path.join(store.dir, 'users.yaml');
    fs.writeFileSync(file, `users:\n  - {name: vera, role: viewer, passwordHash: "${await hashPassword('viewer password')}"}\n`);
    await sut.create({ name: 'kept', password: 'kept password!', role: 'operator' });
    await restart({ usersFile: file, adminPassword: 'admin password' });
    expect(sut.list()).toEqual([
      { name: 'admin', role: 'operator', source: 'env' },
      { name: 'kept', role: 'operator', source: 'api' },
      { name: 'vera', role: 'viewer', source: 'file' },
    ]);
    expect(await sut.verify('admin', 'admin password')).toBe('operator');
    expect(await failure(sut.remove('vera'))).toContain('defined in GRID_USERS_FILE');

    fs.writeFileSync(file, 'users: []\n');
    await restart({ usersFile: file });

    expect(sut.list()).toEqual([{ name: 'kept', role: 'operator', source: 'api' }]);
  });
});
