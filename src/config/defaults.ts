/**
 * Every default of the configuration, in one table, written as it would be in the YAML file
 * (snake_case keys, durations as text). A key absent here has no default: it is required unless
 * its type makes it optional. A function computes the default from the fields of its section
 * already read (camelCase). `config/parley.example.yaml` documents the same values; a test keeps
 * the two in step.
 */
import { hostname } from 'node:os';
import { type DerivedDefault, type SectionDefaults, deepFreeze } from './fields.ts';

export const DEFAULTS = deepFreeze({
  /** Top level: sections that may be left out entirely. `smscs` and `routes` are required. */
  root: { database: {}, redis: {}, http: {}, log: {}, daemon: {}, intake: {}, store: {}, shutdown: {}, receipts: {}, webhooks: [], conversations: {}, numbers: [], coordination: {}, api: {}, health: {}, retention: {} },
  database: { url: 'postgres://postgres@127.0.0.1:5432/parley', pool_size: 10, outage_unbind_after: '1m' },
  redis: { url: 'redis://127.0.0.1:6379', prefix: 'parley:' },
  http: { listen: '127.0.0.1:9464' },
  log: { level: 'info', message_text: false },
  intake: {
    batch_size: 500,
    block: '1s',
    claim_idle: '30s',
    max_metadata_bytes: 8192,
    max_metadata_depth: 32,
  },
  health: { stall_after: '60s' },
  /** The name is the daemon's identity across restarts: the host's name unless set. */
  daemon: { name: () => hostname(), takeover: '5s' },
  store: { batch_delay: '5ms', batch_size: 500 },
  shutdown: { grace: '10s', force: '30s' },
  receipts: { grace: '1h', unknown_after: '72h', unmatched_horizon: '1h', sweep_interval: '1m' },
  conversations: { ttl: '24h', reassembly_timeout: '2m', duplicate_window: '10m' },
  coordination: { bind_lease_ttl: '15s', lease_timeout: '500ms' },
  /** `api.listen` has no default: the API is off unless it is set. */
  api: { tokens: [], rate_limit: 20, rate_burst: 40 },
  /** Each table's retention has no default: kept until configured. */
  retention: { batch_size: 1000, pause: '100ms', interval: '10m', dead_letters_max_len: 100_000 },
  /** Each entry of `webhooks`; `name`, `url` and `secret` are required. */
  webhook: { timeout: '5s', max_attempts: 8, concurrency: 8, subscribe: [] },
  /** Each entry of `smscs`; `name`, `host` and `system_id` are required. */
  smsc: {
    port: 2775,
    tls: false,
    password: '',
    system_type: '',
    bind: 'transceiver',
    binds: 1,
    window: 100,
    connect_timeout: '10s',
    bind_timeout: '10s',
    response_timeout: '10s',
    enquire_link_interval: '30s',
    reconnect_min: '1s',
    reconnect_max: '60s',
    max_pdu_length: 65_536,
    default_alphabet: 'gsm7',
    concatenation: 'udh8',
    source_ton: 'auto',
    source_npi: 'auto',
    dest_ton: 'auto',
    dest_npi: 'auto',
    id_format: 'auto',
    detect_receipt_text: false,
  },
  /** `tls` written as a mapping (`tls: true` is `{ enabled: true }`, `tls: false` is `{ enabled: false }`). */
  tls: { enabled: true, reject_unauthorized: true },
  /** Each entry of `routes`; `name`, `smscs` and `tps` are required. */
  route: {
    prefixes: ['*'],
    /** A tenth of a second's worth of segments, at least 1. */
    burst: (({ tps }) => (typeof tps === 'number' ? Math.max(1, Math.ceil(tps / 10)) : undefined)) satisfies DerivedDefault,
    uncertain_submit: 'resend',
    uncertain_max_attempts: 3,
  },
  /** Each entry of `numbers`; `address` is required. */
  number: { compliance: {}, synonyms: { YES: ['Y', 'YEP', 'YEAH', 'OK', 'CONFIRM'], NO: ['N', 'NOPE'] }, rules: [], unmatched: 'hand_to_apps', intents: {} },
  /** `numbers[].quiet_hours` and `routes[].quiet_hours`; `start` and `end` are required. */
  quiet_hours: { exempt_answers_within: '1h' },
  /** `numbers[].intents`. */
  intents: { threshold: 0.6, time_zone: 'UTC' },
  /** `numbers[].compliance`; the keyword lists and texts default to Parley's standard ones. */
  compliance: { scope: 'number' },
  /** Each entry of `numbers[].rules`; `name` and `actions` are required. */
  rule: { keywords: [] },
} as const satisfies Record<string, SectionDefaults>);
