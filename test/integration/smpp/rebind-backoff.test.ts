import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { SmscBind, type BindState } from '../../../src/smpp/smsc-bind.ts';
import type { Logger } from '../../../src/lib/logger.ts';

/** The bind's info lines with their fields: the backoff it chose is read there, not timed. */
function captureLogger(lines: { msg: string; obj: Record<string, unknown> }[]): Logger {
  const push = (obj: object, msg?: string): void => void lines.push({ msg: msg ?? '', obj: obj as Record<string, unknown> });
  const make = (): Logger => ({ debug: push, info: push, warn: push, error: push, child: () => make() });
  return make();
}

let sim: Simulator | undefined;
let bind: SmscBind | undefined;
afterEach(async () => {
  await bind?.stop();
  await sim?.stop();
  bind = undefined;
  sim = undefined;
});

describe('reconnect backoff', () => {
  it('an SMSC dropped three times: the backoff starts over after every bind, and it binds again each time', async () => {
    sim = await startSimulator({ controlPort: false });
    const transitions: { state: BindState; at: number }[] = [];
    const lines: { msg: string; obj: Record<string, unknown> }[] = [];
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
      logger: captureLogger(lines),
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
    for (let drop = 1; drop <= 3; drop++) {
      const dropped = Date.now();
      const seen = lines.length;
      // Down long enough that the first retry (within 1 s) may find it still down.
      await sim.restart({ abrupt: true, downMs: 700 });
      // The wait bounds only a failure: binding again at all is what is asserted here.
      await boundAfter(dropped, 30_000);
      // The backoff starts again after each bind, read from the delay the bind chose rather than
      // timed: the first retry after every drop is attempt 1, within reconnect_min (1 s). Had it kept
      // growing over the drops, the third drop's first retry would be attempt 3 of 4 to 8 s.
      const firstRetry = lines.slice(seen).find((l) => l.msg === 'smsc bind: reconnecting after backoff');
      expect(firstRetry, `drop ${drop}`).toBeDefined();
      expect(firstRetry!.obj.attempt, `drop ${drop}`).toBe(1);
      expect(firstRetry!.obj.delayMs, `drop ${drop}`).toBeLessThanOrEqual(1_000);
    }
    expect(sim.stats.binds.total).toBeGreaterThanOrEqual(4);
  }, 40_000);
});
