/**
 * Intake's decision for each stream entry, one batch at a time (processBatch): stored and handed to
 * the dispatcher, stored as failed/expired (a final status, no send), dead-lettered with a code, or
 * only acknowledged. The stream and store here are the Intake's own ports, kept in memory.
 */
import { describe, expect, it } from 'vitest';
import { Intake, type IntakeDeadLetter, type IntakeEntry } from '../../../src/outbound/intake.ts';
import { Router } from '../../../src/outbound/router.ts';
import type { DispatchJob } from '../../../src/outbound/dispatcher.ts';
import type { RouteConfig } from '../../../src/config/types.ts';
import type { RoutedMessage } from '../../../src/domain/routed-message.ts';
import type { StatusChange } from '../../../src/domain/events.ts';
import { silentLogger } from '../../../src/lib/logger.ts';

const route = (name: string, prefixes: string[], extra: Partial<RouteConfig> = {}): RouteConfig => ({
  name, prefixes, smscs: ['smsc-a'], tps: 10, burst: 10, uncertainSubmit: 'resend', uncertainMaxAttempts: 3, ...extra,
});

function intakeWith(routes: RouteConfig[], hold?: (m: RoutedMessage) => RoutedMessage['hold']) {
  const settled: { acked: string[]; dead: IntakeDeadLetter[] }[] = [];
  const stored = new Map<string, RoutedMessage>();
  const storedChanges: StatusChange[] = [];
  const enqueued: DispatchJob[] = [];
  const published: StatusChange[] = [];
  const intake = new Intake(
    {
      stream: {
        readNew: async () => [],
        readOwnPending: async () => [],
        claimStale: async () => [],
        claimFrom: async () => [],
        settle: async (acked, dead) => void settled.push({ acked: [...acked], dead: [...dead] }),
      },
      store: {
        insertMessages: async (queued, refused) => {
          const inserted = new Set<string>();
          const changes: StatusChange[] = [];
          for (const m of queued) {
            if (stored.has(m.id)) continue;
            stored.set(m.id, m);
            inserted.add(m.id);
            changes.push({ id: m.id, status: 'queued', previous: null, route: m.route, metadata: null });
          }
          for (const r of refused) {
            if (stored.has(r.message.id)) continue;
            stored.set(r.message.id, r.message);
            inserted.add(r.message.id);
            changes.push(r.change);
          }
          storedChanges.push(...changes);
          return { inserted, changes };
        },
      },
      router: new Router(routes),
      alphabetFor: () => 'gsm7',
      dispatcher: { enqueue: (jobs) => void enqueued.push(...jobs), backlog: 0 },
      publishCommitted: (changes) => void published.push(...changes),
      scheduler: hold && { plan: async (messages) => messages.map((m) => ({ ...m, hold: hold(m) })) },
      logger: silentLogger,
    },
    { batchSize: 100, blockMs: 10, claimIdleMs: 1000, maxBacklog: 1000 },
  );
  return { intake, settled, stored, storedChanges, enqueued, published };
}

let n = 0;
const entry = (payload: unknown): IntakeEntry => ({
  id: `1-${n++}`,
  fields: { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) },
});

const ROUTES = [route('uk', ['44'], { defaultFrom: 'Parley' }), route('short-lived', ['49'], { maxQueueAgeMs: 60_000 })];

describe('intake: what happens to one entry', () => {
  // [what, payload, outcome]
  type Outcome =
    | { dead: string }
    | { stored: 'queued' | 'failed' | 'expired'; errorCode?: string; sent: boolean };
  const rows: [string, unknown, Outcome][] = [
    ['a valid message', { id: 'm1', to: '+447700900001', text: 'hi' }, { stored: 'queued', sent: true }],
    ['not JSON', '{not json', { dead: 'invalid_json' }],
    ['a JSON array', '[1,2]', { dead: 'invalid_json' }],
    ['no destination', { id: 'm2', text: 'hi' }, { dead: 'invalid_to' }],
    ['empty text', { id: 'm3', to: '+447700900001', text: '' }, { dead: 'empty_text' }],
    ['priority outside 0-3', { id: 'm4', to: '+447700900001', text: 'hi', priority: 4 }, { dead: 'invalid_priority' }],
    ['a named route that does not exist', { id: 'm5', to: '+447700900001', text: 'hi', route: 'mars' }, { dead: 'unknown_route' }],
    // 256 parts of 153 septets: more than a one-octet UDH total can count.
    ['a text of 256 GSM parts', { id: 'm6', to: '+447700900001', text: 'a'.repeat(153 * 256) }, { dead: 'too_many_parts' }],
    // No route's prefixes match: stored as failed so the app sees a status, never sent.
    ['a destination no route serves', { id: 'm7', to: '+12025550143', text: 'hi' }, { stored: 'failed', errorCode: 'no_route', sent: false }],
    ['expires_at already past', { id: 'm8', to: '+447700900001', text: 'hi', expires_at: '2001-01-01T00:00:00Z' }, { stored: 'expired', sent: false }],
  ];

  it.each(rows)('%s', async (_what, payload, outcome) => {
    const t = intakeWith(ROUTES);
    const e = entry(payload);
    const result = await t.intake.processBatch([e]);
    if ('dead' in outcome) {
      expect(result.dead.map((d) => d.code)).toEqual([outcome.dead]);
      expect(t.settled).toEqual([{ acked: [], dead: [expect.objectContaining({ entry: e, code: outcome.dead })] }]);
      expect(t.stored.size).toBe(0);
      expect(t.enqueued).toEqual([]);
      return;
    }
    expect(result).toMatchObject({ inserted: 1, dead: [] });
    expect(t.settled).toEqual([{ acked: [e.id], dead: [] }]);
    expect(t.storedChanges).toEqual([expect.objectContaining({ status: outcome.stored, ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}) })]);
    expect(t.enqueued.length).toBe(outcome.sent ? 1 : 0);
  });

  it('an app id that is dead-lettered gets a failed status event with the dead letter code', async () => {
    const t = intakeWith(ROUTES);
    await t.intake.processBatch([entry({ id: 'app-7', to: '+447700900001', text: 'hi', route: 'mars' })]);
    expect(t.published).toEqual([expect.objectContaining({ id: 'app-7', status: 'failed', errorCode: 'unknown_route' })]);
  });

  it('a message without id is keyed by its stream entry (s-<entry id>), so a re-read is stored once', async () => {
    const t = intakeWith(ROUTES);
    const e = entry({ to: '+447700900001', text: 'hi' });
    await t.intake.processBatch([e]);
    const again = await t.intake.processBatch([e]);
    expect([...t.stored.keys()]).toEqual([`s-${e.id}`]);
    expect(again).toMatchObject({ inserted: 0, duplicates: 1 });
    expect(t.enqueued).toHaveLength(1);
  });

  it('the same id twice in one batch: the first is stored, the second only acknowledged', async () => {
    const t = intakeWith(ROUTES);
    const first = entry({ id: 'dup', to: '+447700900001', text: 'first' });
    const second = entry({ id: 'dup', to: '+447700900001', text: 'second' });
    const result = await t.intake.processBatch([first, second]);
    expect(result).toMatchObject({ inserted: 1, duplicates: 1 });
    expect(t.stored.get('dup')?.text).toBe('first');
    expect(t.settled[0]!.acked.sort()).toEqual([first.id, second.id].sort());
  });

  it('an entry deleted from the stream while pending (no fields) is only acknowledged', async () => {
    const t = intakeWith(ROUTES);
    const result = await t.intake.processBatch([{ id: '1-999', fields: {} }]);
    expect(result).toEqual({ inserted: 0, duplicates: 1, dead: [] });
    expect(t.settled).toEqual([{ acked: ['1-999'], dead: [] }]);
  });

  it('the sender is fixed at intake: the payload from, else the route default_from', async () => {
    const t = intakeWith(ROUTES);
    await t.intake.processBatch([entry({ id: 'own', to: '+447700900001', text: 'hi', from: 'Shop' }), entry({ id: 'dflt', to: '+447700900001', text: 'hi' })]);
    expect([t.stored.get('own')?.from, t.stored.get('dflt')?.from]).toEqual(['Shop', 'Parley']);
  });

  it('the route max_queue_age sets the expiry, the earlier of it and expires_at wins', async () => {
    const t = intakeWith(ROUTES);
    const before = Date.now();
    const soon = new Date(before + 10_000).toISOString();
    await t.intake.processBatch([entry({ id: 'age', to: '+4915112345678', text: 'hi' }), entry({ id: 'own', to: '+4915112345678', text: 'hi', expires_at: soon })]);
    const age = t.stored.get('age')!.expiresAt!.getTime();
    expect(age).toBeGreaterThanOrEqual(before + 60_000);
    expect(age).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(t.stored.get('own')!.expiresAt!.toISOString()).toBe(soon);
  });

  it('a held message (scheduler) is stored but not handed to the dispatcher', async () => {
    const until = new Date(Date.now() + 3_600_000);
    const t = intakeWith(ROUTES, (m) => (m.id === 'later' ? { until, reason: 'send_at' } : undefined));
    await t.intake.processBatch([entry({ id: 'later', to: '+447700900001', text: 'hi' }), entry({ id: 'now', to: '+447700900001', text: 'hi' })]);
    expect([...t.stored.keys()].sort()).toEqual(['later', 'now']);
    expect(t.enqueued.map((j) => j.message.id)).toEqual(['now']);
  });

  it('dead letters keep the order of the stream whichever check refused them', async () => {
    const t = intakeWith(ROUTES);
    const entries = [
      entry({ id: 'r', to: '+447700900001', text: 'hi', route: 'mars' }),
      entry('{bad'),
      entry({ id: 'ok', to: '+447700900001', text: 'hi' }),
      entry({ id: 'p', to: '+447700900001', text: 'hi', priority: 9 }),
    ];
    const result = await t.intake.processBatch(entries);
    expect(result.dead.map((d) => [d.entry.id, d.code])).toEqual([
      [entries[0]!.id, 'unknown_route'],
      [entries[1]!.id, 'invalid_json'],
      [entries[3]!.id, 'invalid_priority'],
    ]);
  });
});
