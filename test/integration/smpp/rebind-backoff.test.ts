import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { SmscBind, type BindState } from '../../../src/smpp/smsc-bind.ts';

let sim: Simulator | undefined;
let bind: SmscBind | undefined;
afterEach(async () => {
  await bind?.stop();
  await sim?.stop();
  bind = undefined;
  sim = undefined;
});

describe('reconnect backoff', () => {
  it('an SMSC dropped three times: the backoff starts over after every bind, each rebind within 2 s of the SMSC coming back', async () => {
    sim = await startSimulator({ controlPort: false });
    const transitions: { state: BindState; at: number }[] = [];
    // The defaults of the config (reconnect_min 1s, reconnect_max 60s): without the reset after a
    // short bind, the third drop would wait 4 to 8 s.
    bind = new SmscBind({
      smsc: 'sim',
      label: 'sim#1',
      host: '127.0.0.1',
      port: sim.port,
      type: 'transceiver',
      systemId: 'parley',
      password: 'secret',
      systemType: '',
      connectTimeoutMs: 2_000,
      timers: {},
      reconnectMinMs: 1_000,
      reconnectMaxMs: 60_000,
      onStateChange: (state) => transitions.push({ state, at: Date.now() }),
    });
    bind.start();
    const boundAfter = async (since: number, timeoutMs: number): Promise<number> => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const t = transitions.find((x) => x.state === 'bound' && x.at >= since);
        if (t) return t.at;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`not bound again within ${timeoutMs} ms`);
    };
    await boundAfter(0, 5_000);
    const rebindMs: number[] = [];
    for (let drop = 1; drop <= 3; drop++) {
      const dropped = Date.now();
      // Down long enough that the first retry (within 1 s) may find it still down.
      await sim.restart({ abrupt: true, downMs: 700 });
      const back = Date.now();
      const bound = await boundAfter(dropped, 10_000);
      rebindMs.push(Math.max(0, bound - back));
      // The backoff starts again after each bind: the first retry comes within reconnect_min
      // (1 s, jittered down to 0.5 s). Had it kept growing over the drops (1, 2, 4 s...), the third
      // drop's first retry would wait at least 2 s (4 s jittered to half).
      const firstRetry = transitions.find((x) => x.state === 'connecting' && x.at > dropped);
      expect(firstRetry).toBeDefined();
      expect(firstRetry!.at - dropped).toBeLessThan(2_000);
    }
    for (const ms of rebindMs) expect(ms).toBeLessThan(2_000);
    expect(sim.stats.binds.total).toBeGreaterThanOrEqual(4);
  }, 40_000);
});
