import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CATALOG_CACHE_FILE, catalogCacheDir, hasWarmCatalog } from '../../../src/catalog/cache-location.js';

describe('catalog cache location', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cache-location-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'servers.yml');

  it('is .coordinator-cache beside the config unless cacheDir says otherwise; "" turns it off', () => {
    assert.equal(catalogCacheDir(undefined, configFile), join(dir, '.coordinator-cache'));
    assert.equal(catalogCacheDir('/var/cache/x', configFile), '/var/cache/x');
    assert.equal(catalogCacheDir('', configFile), undefined);
  });

  it('is warm only once a catalog file was saved there', () => {
    assert.equal(hasWarmCatalog(undefined, configFile), false);
    mkdirSync(join(dir, '.coordinator-cache'));
    assert.equal(hasWarmCatalog(undefined, configFile), false, 'an empty folder is not a catalog');
    writeFileSync(join(dir, '.coordinator-cache', CATALOG_CACHE_FILE), '{}');
    assert.equal(hasWarmCatalog(undefined, configFile), true);
    assert.equal(hasWarmCatalog('', configFile), false, 'disabled');
  });
});
