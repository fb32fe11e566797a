/**
 * What several daemons share through Redis besides the streams: one token bucket per route (the
 * carrier's TPS, counted in segments, and its adaptive slow-down) and the leases that cap binds per
 * SMSC. Each is one Lua script over one key, so it is atomic, and every key carries its route or
 * SMSC as a hash tag (`{…}`) so the same code runs on Redis Cluster.
 *
 * Time comes from Redis (`TIME`), never from the daemons, so clocks of different hosts never
 * disagree about a bucket. Redis 5+ replicates a script's effects, which makes TIME safe.
 */
import { Redis, Cluster } from 'ioredis';

/** A single Redis or a Redis Cluster client: the scripts run the same on both. */
export type CoordinationClient = Redis | Cluster;

const BUCKET_LEASE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local accepted = tonumber(ARGV[4])
local step = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'factor', 'win', 'win_n', 'prev_n')
local factor = tonumber(h[3]) or 1
if accepted > 0 and factor < 1 then factor = math.min(1, factor + step * accepted) end
local r = rate * factor
local tokens = tonumber(h[1])
local ts = tonumber(h[2])
if tokens == nil or ts == nil then tokens = burst; ts = now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * r / 1000); ts = now end
local grant = math.floor(tokens)
if grant > want then grant = want end
if grant < 0 then grant = 0 end
tokens = tokens - grant
local sec = math.floor(now / 1000)
local win = tonumber(h[4]) or sec
local wn = tonumber(h[5]) or 0
local pn = tonumber(h[6]) or 0
if sec ~= win then
  if sec == win + 1 then pn = wn else pn = 0 end
  wn = 0
  win = sec
end
wn = wn + grant
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts), 'factor', tostring(factor),
  'win', tostring(win), 'win_n', tostring(wn), 'prev_n', tostring(pn), 'rate', tostring(rate))
redis.call('PEXPIRE', KEYS[1], 3600000)
local wait = 0
if grant == 0 then
  local need = math.min(want, burst) - tokens
  wait = math.ceil(need * 1000 / r)
end
return {grant, tostring(factor), wait}
`;

const BUCKET_SLOW_DOWN = `
local interval = tonumber(ARGV[1])
local minFactor = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'factor', 'slowed_at')
local factor = tonumber(h[1]) or 1
local slowed = tonumber(h[2]) or 0
if now - slowed < interval then return tostring(factor) end
factor = math.max(minFactor, factor / 2)
redis.call('HSET', KEYS[1], 'factor', tostring(factor), 'slowed_at', tostring(now), 'tokens', '0', 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
return tostring(factor)
`;

/**
 * Takes or renews all of `members` (one bind slot: one session, or a transmitter and a receiver)
 * when the SMSC's holders, expired ones dropped, leave room under the cap; all or nothing.
 */
const LEASE_BINDS = `
local ttl = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local mine = 0
for i = 3, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then mine = mine + 1 end
end
local total = redis.call('ZCARD', KEYS[1])
if total - mine + (#ARGV - 2) > max then return 0 end
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return 1
`;

/** Reads who holds binds now, expired ones left out, and Redis's clock. */
const READ_BINDS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {tostring(now), redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf', 'WITHSCORES')}
`;

interface Scripted {
  parleyBucketLease(key: string, rate: number, burst: number, want: number, accepted: number, step: number): Promise<[number, string, number]>;
  parleyBucketSlowDown(key: string, intervalMs: number, minFactor: number): Promise<string>;
  parleyLeaseBinds(key: string, ttlMs: number, max: number, ...members: string[]): Promise<number>;
  parleyReadBinds(key: string): Promise<[string, string[]]>;
}

function scripted(client: CoordinationClient): Scripted {
  const c = client as CoordinationClient & Partial<Scripted>;
  if (!c.parleyBucketLease) {
    client.defineCommand('parleyBucketLease', { numberOfKeys: 1, lua: BUCKET_LEASE });
    client.defineCommand('parleyBucketSlowDown', { numberOfKeys: 1, lua: BUCKET_SLOW_DOWN });
    client.defineCommand('parleyLeaseBinds', { numberOfKeys: 1, lua: LEASE_BINDS });
    client.defineCommand('parleyReadBinds', { numberOfKeys: 1, lua: READ_BINDS });
  }
  return c as unknown as Scripted;
}

/** The key of a route's bucket: the route name is the hash tag. */
export function bucketKey(prefix: string, route: string): string {
  return `${prefix}throttle:{${route}}`;
}

/** The key of an SMSC's bind leases: the SMSC name is the hash tag. */
export function bindLeaseKey(prefix: string, smsc: string): string {
  return `${prefix}binds:{${smsc}}`;
}

export interface BucketLease {
  /** Tokens (segments) granted now, 0 to `want`. */
  readonly granted: number;
  /** The shared slow-down factor in force (1 = the configured rate). */
  readonly factor: number;
  /** When nothing was granted: milliseconds until `want` tokens (or the burst) are there. */
  readonly waitMs: number;
}

export interface BucketState {
  readonly route: string;
  /** The configured rate last written by a daemon. */
  readonly rate: number;
  readonly factor: number;
  /** Segments granted in the last full second across every daemon. */
  readonly lastSecond: number;
  readonly tokens: number;
}

export interface BindHolder {
  /** The lease member: `<daemon>#<slot>` plus `/tx` or `/rx` for a transmitter+receiver pair. */
  readonly member: string;
  readonly daemon: string;
  /** Milliseconds until the lease expires unless renewed. */
  readonly expiresInMs: number;
}

export class RouteBuckets {
  private readonly scripts: Scripted;

  constructor(
    client: CoordinationClient,
    private readonly prefix: string,
  ) {
    this.scripts = scripted(client);
  }

  /**
   * Takes up to `want` tokens from the route's bucket; `accepted` is how many segments the SMSC
   * accepted since the last call, which lifts a slow-down back by `recoveryStep` each.
   */
  async lease(route: string, rate: number, burst: number, want: number, accepted: number, recoveryStep: number): Promise<BucketLease> {
    const [granted, factor, waitMs] = await this.scripts.parleyBucketLease(bucketKey(this.prefix, route), rate, burst, want, accepted, recoveryStep);
    return { granted: Number(granted), factor: Number(factor), waitMs: Number(waitMs) };
  }

  /** Halves the route's shared rate (at most once per interval) and empties its bucket; returns the factor now. */
  async slowDown(route: string, intervalMs: number, minFactor: number): Promise<number> {
    return Number(await this.scripts.parleyBucketSlowDown(bucketKey(this.prefix, route), intervalMs, minFactor));
  }
}

export class BindLeases {
  private readonly scripts: Scripted;

  constructor(
    private readonly client: CoordinationClient,
    private readonly prefix: string,
  ) {
    this.scripts = scripted(client);
  }

  /** Takes or renews the members' leases for `ttlMs`; false when the cap leaves no room for them all. */
  async lease(smsc: string, members: readonly string[], ttlMs: number, max: number): Promise<boolean> {
    return (await this.scripts.parleyLeaseBinds(bindLeaseKey(this.prefix, smsc), ttlMs, max, ...members)) === 1;
  }

  async release(smsc: string, members: readonly string[]): Promise<void> {
    if (members.length > 0) await this.client.zrem(bindLeaseKey(this.prefix, smsc), ...members);
  }
}

/** What `parley cluster` shows of the shared state: every route's bucket and every SMSC's bind holders. */
export async function readBucket(client: CoordinationClient, prefix: string, route: string): Promise<BucketState | undefined> {
  const h = await client.hgetall(bucketKey(prefix, route));
  if (!h.ts) return undefined;
  const nowSec = Math.floor(Date.now() / 1000);
  // prev_n counts the second before `win`; when no segment was granted since, that second is old.
  const win = Number(h.win);
  const lastSecond = win === nowSec ? Number(h.prev_n) : win === nowSec - 1 ? Number(h.win_n) : 0;
  return { route, rate: Number(h.rate), factor: Number(h.factor ?? 1), lastSecond, tokens: Number(h.tokens) };
}

export async function readBindHolders(client: CoordinationClient, prefix: string, smsc: string): Promise<BindHolder[]> {
  const [now, flat] = await scripted(client).parleyReadBinds(bindLeaseKey(prefix, smsc));
  const holders: BindHolder[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const member = flat[i]!;
    holders.push({ member, daemon: member.replace(/#[^#]*$/, ''), expiresInMs: Number(flat[i + 1]) - Number(now) });
  }
  return holders;
}

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

/** A Redis Cluster client for coordination (what a deployment on Redis Cluster uses). */
export function openRedisCluster(nodes: readonly ClusterNode[], options: { onError?: (err: Error) => void } = {}): Cluster {
  const cluster = new Cluster(
    nodes.map((n) => ({ host: n.host, port: n.port })),
    { redisOptions: { maxRetriesPerRequest: 1 }, enableOfflineQueue: true },
  );
  cluster.on('error', (err: Error) => options.onError?.(err));
  return cluster;
}
