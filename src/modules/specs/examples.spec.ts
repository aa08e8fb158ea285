import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifests } from './spec-validator.js';

const dir = path.resolve('examples');

describe('examples/', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('has the seed examples and the demos', () => {
    expect(files).toEqual(expect.arrayContaining(['api-v1.yaml', 'api-v2.yaml', 'api-canary.yaml', 'demo.yaml', 'shop.yaml', 'canary-demo.yaml', 'canary-chaos.yaml']));
  });

  it.each(files)('%s applies as written', (f) => {
    const r = parseManifests(fs.readFileSync(path.join(dir, f), 'utf8'), 'application/yaml');
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});
