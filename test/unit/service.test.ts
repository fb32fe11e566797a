import { describe, expect, it, vi } from 'vitest';
import { Service, type Component } from '../../src/service.ts';
import { silentLogger } from '../../src/lib/logger.ts';

function recorder(): { log: string[]; component(name: string, opts?: { failStart?: boolean; failStop?: boolean; startMs?: number; stopMs?: number }): Component } {
  const log: string[] = [];
  return {
    log,
    component: (name, opts = {}) => ({
      name,
      start: async () => {
        log.push(`start ${name}`);
        if (opts.startMs) await new Promise((r) => setTimeout(r, opts.startMs));
        if (opts.failStart) throw new Error(`${name} cannot start`);
      },
      stop: async () => {
        log.push(`stop ${name}`);
        if (opts.stopMs) await new Promise((r) => setTimeout(r, opts.stopMs));
        if (opts.failStop) throw new Error(`${name} cannot stop`);
      },
    }),
  };
}

describe('Service', () => {
  it('starts in order, stops in reverse, and logs its states', async () => {
    const r = recorder();
    const s = new Service([r.component('a'), r.component('b'), r.component('c')], silentLogger, 1000);
    await s.start();
    expect(await s.stop()).toBe('clean');
    expect(r.log).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(s.states).toEqual(['created', 'starting', 'running', 'stopping', 'stopped']);
  });

  it('stop is idempotent and runs every cleanup even when one fails', async () => {
    const r = recorder();
    const s = new Service([r.component('a'), r.component('b', { failStop: true }), r.component('c')], silentLogger, 1000);
    await s.start();
    const first = s.stop();
    expect(s.stop()).toBe(first);
    expect(await first).toBe('errors');
    expect(r.log.filter((l) => l.startsWith('stop'))).toEqual(['stop c', 'stop b', 'stop a']);
  });

  it('a component that fails to start stops those already started, and the error surfaces', async () => {
    const r = recorder();
    const s = new Service([r.component('a'), r.component('b', { failStart: true }), r.component('c')], silentLogger, 1000);
    await expect(s.start()).rejects.toThrow('b cannot start');
    expect(r.log).toEqual(['start a', 'start b', 'stop a']);
    expect(s.state).toBe('stopped');
  });

  it('a stop during start waits for the component starting, starts nothing more, and stops it too', async () => {
    const r = recorder();
    const s = new Service([r.component('a'), r.component('slow', { startMs: 100 }), r.component('c')], silentLogger, 1000);
    const starting = s.start();
    await new Promise((r2) => setTimeout(r2, 20));
    expect(await s.stop()).toBe('clean');
    await starting;
    expect(r.log).toEqual(['start a', 'start slow', 'stop slow', 'stop a']);
  });

  it('gives up at the force time, not when the stuck component would finish', async () => {
    vi.useFakeTimers();
    try {
      const r = recorder();
      const s = new Service([r.component('stuck', { stopMs: 5000 })], silentLogger, 100);
      await s.start();
      let result: string | undefined;
      const stopping = s.stop().then((x) => (result = x));
      await vi.advanceTimersByTimeAsync(99);
      expect(result).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(result).toBe('forced');
      await vi.runAllTimersAsync();
      await stopping;
    } finally {
      vi.useRealTimers();
    }
  });
});
