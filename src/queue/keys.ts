/** Redis key names under the configured prefix (`parley:` by default). */
export interface StreamKeys {
  readonly outbound: string;
  readonly dead: string;
  readonly events: string;
  readonly inbound: string;
  readonly group: string;
}

export function streamKeys(prefix: string): StreamKeys {
  return {
    outbound: `${prefix}outbound`,
    dead: `${prefix}outbound:dead`,
    events: `${prefix}events`,
    inbound: `${prefix}inbound`,
    group: 'parley',
  };
}
