/**
 * A fresh schema for every test of a file, for the files whose tests each start from empty tables:
 * created before each test and dropped after it, in place of the same beforeEach/afterEach pair
 * written out in each file.
 */
import { afterEach, beforeEach } from 'vitest';
import { freshSchema, type TestSchema } from './services.ts';

/** The running test's schema: `s.db` and the rest read the schema of the test that runs now. */
export function freshSchemaPerTest(): TestSchema {
  let current: TestSchema | undefined;
  beforeEach(async () => {
    current = await freshSchema();
  });
  afterEach(async () => {
    await current?.drop();
    current = undefined;
  });
  const running = (): TestSchema => {
    if (current === undefined) throw new Error('a test schema is used outside a test');
    return current;
  };
  return {
    get schema() {
      return running().schema;
    },
    get db() {
      return running().db;
    },
    openPool: (poolSize) => running().openPool(poolSize),
    drop: () => running().drop(),
  };
}
