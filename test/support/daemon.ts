/**
 * A daemon against the test Postgres schema, the test Redis prefix and a simulator on loopback.
 */
import { Redis } from 'ioredis';
import { buildDaemon, type Daemon, type DaemonOptions } from '../../src/main.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import type { ParleyConfig } from '../../src/config/types.ts';
import { streamKeys } from '../../src/queue/keys.ts';
import { dropRedisPrefix, freshSchema, testConfig, uniqueName, TEST_REDIS_URL, type TestSchema } from './services.ts';

export interface Harness {
  readonly schema: TestSchema;
  readonly prefix: string;
  readonly redis: Redis;
  readonly keys: ReturnType<typeof streamKeys>;
  readonly sims: Simulator[];
  readonly daemons: Daemon[];
  startSim(options?: SimulatorOptions): Promise<Simulator>;
  config(raw: Record<string, unknown>): ParleyConfig;
  /** `options` adds to the harness's own (a clock, say). */
  startDaemon(config: ParleyConfig, options?: Partial<DaemonOptions>): Promise<Daemon>;
  /** XADDs one entry per payload (objects are JSON-encoded, strings sent as they are). */
  send(payloads: readonly (object | string)[]): Promise<void>;
  /** Messages whose every segment the SMSC accepted (submitted, or already further on). */
  acceptedCount(idLike?: string): Promise<number>;
  /** Polls until `check` returns true or the time is up (then throws with `what`). */
  until(what: string, check: () => Promise<boolean> | boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const schema = await freshSchema();
  const prefix = `${uniqueName('p')}:`;
  const redis = new Redis(TEST_REDIS_URL);
  const keys = streamKeys(prefix);
  const sims: Simulator[] = [];
  const daemons: Daemon[] = [];
  const h: Harness = {
    schema,
    prefix,
    redis,
    keys,
    sims,
    daemons,
    async startSim(options = {}) {
      const sim = await startSimulator({ controlPort: false, ...options });
      sims.push(sim);
      return sim;
    },
    config: (raw) => testConfig(raw, prefix),
    async startDaemon(config, options = {}) {
      const daemon = buildDaemon(config, { logger: silentLogger, schema: schema.schema, http: false, ...options });
      daemons.push(daemon);
      await daemon.service.start();
      return daemon;
    },
    async send(payloads) {
      // Chunks keep one pipeline's reply small; each entry is its own XADD as apps would do.
      for (let i = 0; i < payloads.length; i += 500) {
        const p = redis.pipeline();
        for (const payload of payloads.slice(i, i + 500)) {
          p.xadd(keys.outbound, '*', 'payload', typeof payload === 'string' ? payload : JSON.stringify(payload));
        }
        await p.exec();
      }
    },
    async acceptedCount(idLike) {
      let q = schema.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('submitted_at', 'is not', null);
      if (idLike !== undefined) q = q.where('id', 'like', idLike);
      return Number((await q.executeTakeFirstOrThrow()).n);
    },
    async until(what, check, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}`);
    },
    async close() {
      for (const d of daemons) await d.service.stop();
      for (const s of sims) await s.stop();
      redis.disconnect();
      await dropRedisPrefix(prefix);
      await schema.drop();
    },
  };
  return h;
}

/** The simulator as an SMSC entry of the config. */
export function simSmsc(name: string, sim: Simulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    host: '127.0.0.1',
    port: sim.port,
    system_id: 'parley',
    password: 'secret',
    reconnect_min: '50ms',
    reconnect_max: '500ms',
    ...extra,
  };
}
