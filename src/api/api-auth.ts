/**
 * Who may call the API: bearer tokens configured as SHA-256 hashes (the tokens themselves are
 * never stored), each with scopes, and a request rate per token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { TokenBucket } from '../lib/token-bucket.ts';
import type { ApiScope, ApiTokenConfig } from '../config/types.ts';

export interface ApiCaller {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
}

export type AuthOutcome =
  | { readonly ok: true; readonly caller: ApiCaller }
  | { readonly ok: false; readonly status: 401 | 403 | 429; readonly code: string; readonly reason: string; readonly retryAfterS?: number };

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The bearer token of an Authorization header, or undefined when it has none. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

export class ApiAuth {
  private readonly tokens: { readonly hash: Buffer; readonly caller: ApiCaller }[];
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    tokens: readonly ApiTokenConfig[],
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = tokens.map((t) => ({ hash: Buffer.from(t.sha256.toLowerCase(), 'hex'), caller: { name: t.name, scopes: t.scopes } }));
  }

  /** Checks the token, then its rate, then that it has the scope the operation needs. */
  authorize(token: string | undefined, scope: ApiScope | undefined): AuthOutcome {
    if (token === undefined) {
      return { ok: false, status: 401, code: 'missing_token', reason: 'send a token as "Authorization: Bearer <token>"' };
    }
    const hash = createHash('sha256').update(token, 'utf8').digest();
    // Every configured hash is compared, in constant time, so timing tells nothing of which matched.
    let caller: ApiCaller | undefined;
    for (const t of this.tokens) if (timingSafeEqual(t.hash, hash)) caller = t.caller;
    if (!caller) return { ok: false, status: 401, code: 'invalid_token', reason: 'the token is not one of api.tokens' };
    const now = this.now();
    let bucket = this.buckets.get(caller.name);
    if (!bucket) {
      bucket = new TokenBucket(this.rate, this.burst, now);
      this.buckets.set(caller.name, bucket);
    }
    if (!bucket.available(now)) {
      const waitS = Math.max(1, Math.ceil(bucket.waitMs(now) / 1000));
      return {
        ok: false,
        status: 429,
        code: 'rate_limited',
        reason: `token ${caller.name} may make ${this.rate} requests a second (${this.burst} at once); try again in ${waitS} s`,
        retryAfterS: waitS,
      };
    }
    bucket.take();
    if (scope !== undefined && !caller.scopes.includes(scope)) {
      return {
        ok: false,
        status: 403,
        code: 'insufficient_scope',
        reason: `this needs the ${scope} scope; token ${caller.name} has ${caller.scopes.join(', ')}`,
      };
    }
    return { ok: true, caller };
  }
}
