/**
 * The configuration schema, one declaration (zod, through `fields.ts`) for each key: its YAML name,
 * its name in `ParleyConfig`, what it accepts and its default, as written in YAML. The types in
 * `types.ts` are inferred from it. To add a key: one line here and its documentation in
 * `config/parley.example.yaml` (a test keeps the two in step).
 * Over 400 lines because it is the whole configuration in one place, a table more than code.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { formatDuration } from './duration.ts';
import { linearPatternProblem } from '../lib/linear-pattern.ts';
import { MIN_WEBHOOK_SECRET_LENGTH } from '../domain/webhook-signature.ts';
import { isTimeZone } from '../lib/time-zone.ts';
import {
  type Field,
  type Readable,
  type SectionReport,
  type SectionValue,
  type ValueOf,
  INVALID,
  autoOr,
  boolean,
  custom,
  describeValue,
  didYouMean,
  duration,
  fraction,
  hostPort,
  integer,
  isPlainMapping,
  key,
  list,
  oneOf,
  optional,
  positiveNumber,
  section,
  string,
  suggestName,
  url,
} from './fields.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const BIND_MODES = ['transceiver', 'transmitter+receiver'] as const;
export const ALPHABETS = ['gsm7', 'ascii', 'latin1'] as const;
export const CONCATENATIONS = ['udh8', 'udh16', 'sar', 'payload'] as const;
export const ID_FORMATS = ['auto', 'exact', 'case', 'leading_zeros', 'hex_to_decimal', 'decimal_to_hex'] as const;
/** What to do with a submit whose response never came (SMPP has no idempotency). */
export const UNCERTAIN_SUBMIT = ['resend', 'unknown'] as const;
export const WEBHOOK_EVENTS = ['message.status', 'message.inbound'] as const;
/** What an API token may do: send messages, read messages and conversations, act as an agent. */
export const API_SCOPES = ['send', 'read', 'agent'] as const;

// ---------------------------------------------------------------------------------------------
// Value shapes particular to Parley

/** SMSC and route names: used in metrics labels, logs and route lists. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const name = (): Field<string> =>
  string({
    max: 63,
    check: (t) => (NAME.test(t) ? undefined : 'must be letters, digits, "-", "_" or ".", starting with a letter or digit'),
  });

const host = (): Field<string> =>
  string({
    check: (t) => {
      if (/[\s/]/.test(t)) return 'must be a host name or IP address (no scheme, path or spaces)';
      if (t.includes(':') && !/^[0-9a-fA-F:.]+$/.test(t)) return 'must be a host name or IP address without a port (the port has its own key)';
      return undefined;
    },
  });

/** Destination prefixes: digits, optionally after "+", or "*" for everything. */
const PREFIX = /^\+?\d{1,20}$/;
const prefix = (): Field<string> =>
  string({ check: (t) => (t === '*' || PREFIX.test(t) ? undefined : 'must be digits (optionally starting with +) or "*"') });

/** Our numbers and senders: a long code / short code (digits), or an alphanumeric sender id. */
const PHONE = /^\+?\d+$/;
const ALPHANUMERIC = /^[A-Za-z0-9 ._&'-]{1,11}$/;
const address = (): Field<string> =>
  string({
    max: 20,
    check: (t) =>
      PHONE.test(t) || ALPHANUMERIC.test(t)
        ? undefined
        : "must be digits (optionally starting with +) or an alphanumeric sender id of at most 11 letters, digits, spaces or . _ & ' -",
  });

/** An IANA time zone name the platform knows ("Europe/Paris", "America/New_York", "UTC"). */
const timeZone = (): Field<string> =>
  string({ check: (value) => (isTimeZone(value) ? undefined : 'must be an IANA time zone name such as "Europe/Paris" or "UTC"') });

/** A local time of day, 24-hour "HH:MM". */
const clockTime = (): Field<string> =>
  string({ check: (value) => (/^([01]\d|2[0-3]):[0-5]\d$/.test(value) ? undefined : 'must be a 24-hour time such as "21:00"') });

/**
 * A regular expression source the linear-time engine runs (RE2 syntax, case-insensitive): a
 * backreference or lookaround is refused here, with why, rather than on the first reply.
 */
const pattern = (): Field<string> => string({ check: (t) => linearPatternProblem(t, 'i') });

/** A token's SHA-256 in hex (`printf %s "$TOKEN" | sha256sum`). */
const sha256Hex = (): Field<string> =>
  string({ secret: true, check: (t) => (/^[0-9a-fA-F]{64}$/.test(t) ? undefined : "must be the 64 hex digits of the token's SHA-256") });

const keywords = (min = 0): Field<readonly string[]> => list(string(), { min, what: 'keyword' });

// ---------------------------------------------------------------------------------------------
// Checks within a section

const isText = (value: unknown): value is string => typeof value === 'string';

/** Reports each item whose key repeats an earlier item's, at `[list, i, key]` (or `[list, i]`). */
function reportDuplicates(
  items: unknown,
  keyOf: (item: unknown) => unknown,
  report: SectionReport,
  path: readonly (string | number)[],
  reason: (value: string, first: number) => string,
  key?: string,
): void {
  if (!Array.isArray(items)) return;
  const seen = new Map<string, number>();
  items.forEach((item: unknown, i) => {
    const value = keyOf(item);
    if (!isText(value)) return;
    const first = seen.get(value);
    if (first === undefined) seen.set(value, i);
    else report(key === undefined ? [...path, i] : [...path, i, key], reason(describeValue(value), first));
  });
}

const field = (item: unknown, key: string): unknown => (isPlainMapping(item) ? item[key] : undefined);

// ---------------------------------------------------------------------------------------------
// Sections

const TLS = section(
  {
    enabled: key('enabled', boolean(), true),
    ca_file: optional('caFile', string()),
    servername: optional('servername', string()),
    reject_unauthorized: key('rejectUnauthorized', boolean(), true),
  },
  { expected: 'must be true, false or a mapping (enabled, ca_file, servername, reject_unauthorized)' },
);

/** `tls: false`, `tls: true`, or `tls: { enabled?, ca_file?, servername?, reject_unauthorized? }`. */
const tls = (): Field<ValueOf<typeof TLS>> => ({
  schema: z.preprocess((value) => (typeof value === 'boolean' || value === 'true' || value === 'false' ? { enabled: value === true || value === 'true' } : value), TLS.schema),
  write(value, options) {
    const plain = value.caFile === undefined && value.servername === undefined && value.rejectUnauthorized;
    return plain ? value.enabled : TLS.write(value, options);
  },
});

const SMSC = section(
  {
    name: key('name', name()),
    host: key('host', host()),
    port: key('port', integer({ min: 1, max: 65_535 }), 2775),
    tls: key('tls', tls(), false),
    // SMPP 3.4 C-Octet strings: system_id 16, password 9, system_type 13 octets with the NUL.
    system_id: key('systemId', string({ max: 15, ascii: true })),
    password: key('password', string({ min: 0, max: 8, ascii: true, secret: true }), ''),
    system_type: key('systemType', string({ min: 0, max: 12, ascii: true }), ''),
    bind: key('bind', oneOf(BIND_MODES), 'transceiver'),
    binds: key('binds', integer({ min: 1 }), 1),
    window: key('window', integer({ min: 1 }), 100),
    connect_timeout: key('connectTimeoutMs', duration({ positive: true }), '10s'),
    bind_timeout: key('bindTimeoutMs', duration({ positive: true }), '10s'),
    response_timeout: key('responseTimeoutMs', duration({ positive: true }), '10s'),
    enquire_link_interval: key('enquireLinkIntervalMs', duration({ positive: true }), '30s'),
    reconnect_min: key('reconnectMinMs', duration({ positive: true }), '1s'),
    reconnect_max: key('reconnectMaxMs', duration({ positive: true }), '60s'),
    /** Largest command_length accepted from this SMSC. */
    max_pdu_length: key('maxPduLength', integer({ min: 1_024, max: 16_777_216 }), 65_536),
    /** What data_coding 0 means for this SMSC. */
    default_alphabet: key('defaultAlphabet', oneOf(ALPHABETS), 'gsm7'),
    concatenation: key('concatenation', oneOf(CONCATENATIONS), 'udh8'),
    /** 'auto' derives TON/NPI from the address: alphanumeric, short code or international. */
    source_ton: key('sourceTon', autoOr({ min: 0, max: 255 }), 'auto'),
    source_npi: key('sourceNpi', autoOr({ min: 0, max: 255 }), 'auto'),
    dest_ton: key('destTon', autoOr({ min: 0, max: 255 }), 'auto'),
    dest_npi: key('destNpi', autoOr({ min: 0, max: 255 }), 'auto'),
    id_format: key('idFormat', oneOf(ID_FORMATS), 'auto'),
    /** A deliver_sm whose text reads as an SMPP 3.4 Appendix B receipt is one, whatever its esm_class says. */
    detect_receipt_text: key('detectReceiptText', boolean(), false),
    /** Most binds to this SMSC across every daemon (leases in Redis); absent: each daemon holds `binds`. */
    max_binds: optional('maxBinds', integer({ min: 1 })),
  },
  {
    check(smsc, report) {
      const { reconnect_min: min, reconnect_max: max, max_binds: maxBinds } = smsc;
      if (typeof min === 'number' && typeof max === 'number' && min > max) {
        report(['reconnect_min'], `must not be longer than reconnect_max (${formatDuration(max)}), got ${formatDuration(min)}`);
      }
      if (smsc.bind === 'transmitter+receiver' && typeof maxBinds === 'number' && maxBinds < 2) {
        report(['max_binds'], `must be at least 2 with bind: transmitter+receiver (each pair is two binds), got ${maxBinds}`);
      }
    },
  },
);

/**
 * Hours in the recipient's local time when messages are held (not dropped) and sent when they
 * end. `end` may be earlier than `start` (quiet across midnight).
 */
const QUIET_HOURS = section({
  start: key('start', clockTime()),
  end: key('end', clockTime()),
  time_zone: optional('timeZone', timeZone()),
  /** Answers to a customer who wrote within this long go at once; 0 holds them too. */
  exempt_answers_within: key('exemptAnswersWithinMs', duration(), '1h'),
});

const ROUTE_KEYS = {
    name: key('name', name()),
    prefixes: key('prefixes', list(prefix(), { min: 1, what: 'prefix' }), ['*']),
    smscs: key('smscs', list(name(), { min: 1, what: 'SMSC' })),
    /** Segments per second. */
    tps: key('tps', positiveNumber()),
    /** Segments that may go at once above the steady rate; a tenth of a second's worth (at least 1) when absent. */
    burst: optional('burst', integer({ min: 1 })),
    /** Sender used when a message has no `from`. */
    default_from: optional('defaultFrom', address()),
    uncertain_submit: key('uncertainSubmit', oneOf(UNCERTAIN_SUBMIT), 'resend'),
    /** With `resend`, most submits of one segment that get no usable answer; after the last the message is `unknown`. */
    uncertain_max_attempts: key('uncertainMaxAttempts', integer({ min: 1, max: 100 }), 3),
    quiet_hours: optional('quietHours', QUIET_HOURS),
    /** A message still queued this long after Parley accepted it is expired instead of sent. */
    max_queue_age: optional('maxQueueAgeMs', duration({ positive: true })),
};

const ROUTE = section(
  ROUTE_KEYS,
  {
    check(route, report) {
      reportDuplicates(route.smscs, (s) => s, report, ['smscs'], (value, first) => `${value} is already listed as smscs[${first}]`);
    },
    derive: (route: SectionValue<typeof ROUTE_KEYS>) => ({ ...route, burst: route.burst ?? Math.max(1, Math.ceil(route.tps / 10)) }),
  },
);

const WEBHOOK = section({
  name: key('name', name()),
  url: key('url', url(['http:', 'https:'])),
  /** HMAC-SHA256 key for X-Parley-Signature; short keys can be guessed offline from one signed request. */
  secret: key('secret', string({ secret: true, min: MIN_WEBHOOK_SECRET_LENGTH })),
  timeout: key('timeoutMs', duration({ positive: true }), '5s'),
  /** Deliveries tried at most this often (with backoff) before being recorded as failed. */
  max_attempts: key('maxAttempts', integer({ min: 1, max: 100 }), 8),
  /** Calls in flight at once; more wait behind this webhook alone, so one slow webhook holds up nothing else. */
  concurrency: key('concurrency', integer({ min: 1, max: 1000 }), 8),
  /** Events sent to this webhook as they happen; rules may also call it by name. */
  subscribe: key('subscribe', list(oneOf(WEBHOOK_EVENTS), { what: 'event' }), []),
});

const ACTION_KINDS = ['reply', 'webhook', 'set_tags', 'set_state', 'hand_to_apps'] as const;

/** What a keyword rule does; actions run in order. Texts are templates (`{{ groups.order }}`). */
export type RuleActionConfig =
  | { readonly kind: 'reply'; readonly text: string }
  | { readonly kind: 'set_tags'; readonly tags: Readonly<Record<string, string>> }
  | { readonly kind: 'set_state'; readonly state: string }
  | { readonly kind: 'webhook'; readonly webhook: string; readonly fallback?: string }
  | { readonly kind: 'hand_to_apps' };

/**
 * One action, written as a one-key mapping: `reply: "text"`, `webhook: name` (with an optional
 * `fallback: "text"` beside it), `set_tags: { key: value }`, `set_state: name`, `hand_to_apps: true`.
 */
const ruleAction = (): Field<RuleActionConfig> =>
  custom<RuleActionConfig>(
    (value, problem) => {
      if (!isPlainMapping(value)) return problem(`must be a mapping such as { reply: "text" } or { webhook: name }, got ${describeValue(value)}`);
      const known = [...ACTION_KINDS, 'fallback'];
      for (const k of Object.keys(value)) if (!known.includes(k)) problem(`unknown key${didYouMean(k, known)}`, k);
      const kinds = ACTION_KINDS.filter((k) => value[k] !== undefined);
      const [kind] = kinds;
      if (kinds.length !== 1 || kind === undefined) return problem(`must name exactly one action of ${ACTION_KINDS.join(', ')}`);
      if (value['fallback'] !== undefined && kind !== 'webhook') return problem('only goes with a webhook action', 'fallback');
      const text = (k: string): string | typeof INVALID => {
        const v = value[k];
        return typeof v === 'string' && v !== '' ? v : problem(typeof v === 'string' ? 'must not be empty' : `must be a string, got ${describeValue(v)}`, k);
      };
      switch (kind) {
        case 'reply': {
          const t = text('reply');
          return t === INVALID ? t : { kind, text: t };
        }
        case 'webhook': {
          const w = value['webhook'];
          if (typeof w !== 'string' || !NAME.test(w)) return problem('must be the name of a webhook of the webhooks section', 'webhook');
          if (value['fallback'] === undefined) return { kind, webhook: w };
          const f = text('fallback');
          return f === INVALID ? f : { kind, webhook: w, fallback: f };
        }
        case 'set_state': {
          const t = text('set_state');
          return t === INVALID ? t : { kind, state: t };
        }
        case 'set_tags': {
          const tags = value['set_tags'];
          if (!isPlainMapping(tags)) return problem(`must be a mapping of tag: value, got ${describeValue(tags)}`, 'set_tags');
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(tags)) {
            if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return problem('must be a text', 'set_tags', k);
            out[k] = String(v);
          }
          return { kind, tags: out };
        }
        case 'hand_to_apps':
          if (value['hand_to_apps'] !== true && value['hand_to_apps'] !== 'true') return problem('must be true', 'hand_to_apps');
          return { kind };
      }
    },
    (value) => {
      switch (value.kind) {
        case 'reply':
          return { reply: value.text };
        case 'webhook':
          return value.fallback === undefined ? { webhook: value.webhook } : { webhook: value.webhook, fallback: value.fallback };
        case 'set_tags':
          return { set_tags: value.tags };
        case 'set_state':
          return { set_state: value.state };
        case 'hand_to_apps':
          return { hand_to_apps: true };
      }
    },
  );

export type UnmatchedConfig = { readonly kind: 'silent' } | { readonly kind: 'hand_to_apps' } | { readonly kind: 'reply'; readonly text: string };

/** `silent`, `hand_to_apps`, or `{ reply: "text" }`. */
const unmatched = (): Field<UnmatchedConfig> =>
  custom<UnmatchedConfig>(
    (value, problem) => {
      if (value === 'silent' || value === 'hand_to_apps') return { kind: value };
      if (isPlainMapping(value) && typeof value['reply'] === 'string' && Object.keys(value).length === 1 && value['reply'] !== '') {
        return { kind: 'reply', text: value['reply'] };
      }
      return problem(`must be silent, hand_to_apps or { reply: "text" }, got ${describeValue(value)}`);
    },
    (value) => (value.kind === 'reply' ? { reply: value.text } : value.kind),
  );

/** `{ KEYWORD: [synonym, ...] }`. */
const synonyms = (): Field<Readonly<Record<string, readonly string[]>>> =>
  custom((value, problem) => {
    if (!isPlainMapping(value)) return problem(`must be a mapping of keyword: [synonyms], got ${describeValue(value)}`);
    const out: Record<string, readonly string[]> = {};
    let ok = true;
    for (const [k, v] of Object.entries(value)) {
      if (!Array.isArray(v)) ok = problem(`must be a list, got ${describeValue(v)}`, k) !== INVALID;
      else {
        v.forEach((word: unknown, i) => {
          if (typeof word !== 'string' || word === '') ok = problem(typeof word === 'string' ? 'must not be empty' : `must be a string, got ${describeValue(word)}`, k, i) !== INVALID;
        });
        out[k] = v as string[];
      }
    }
    return ok ? out : INVALID;
  });

/** Compliance keywords and texts of one number; what is left out takes Parley's standard lists. */
const COMPLIANCE = section({
  /** Whether STOP opts the customer out of this number only, or of every number. */
  scope: key('scope', oneOf(['number', 'global']), 'number'),
  opt_out: optional('optOut', keywords(1)),
  opt_in: optional('optIn', keywords()),
  help: optional('help', keywords()),
  opt_out_reply: optional('optOutReply', string({ min: 0 })),
  opt_in_reply: optional('optInReply', string({ min: 0 })),
  help_reply: optional('helpReply', string({ min: 0 })),
  /** Who is texting and how to reach them: carriers require both in the HELP answer. */
  brand: optional('brand', string()),
  contact: optional('contact', string()),
});

/** How replies are read beyond exact keywords (`src/inbound/intent/`). */
const INTENTS = section({
  /** Below this confidence (0..1) a reply is handed to the apps; opt-outs below it are flagged for review. */
  threshold: key('threshold', fraction(), 0.6),
  /** The customers' time zone (IANA name), for times in replies ("tomorrow at 10"). */
  time_zone: key('timeZone', timeZone(), 'UTC'),
  /** A webhook asked for the intent of replies the built-in reading does not recognise. */
  nlu_webhook: optional('nluWebhook', name()),
});

const RULE = section(
  {
    name: key('name', name()),
    /** The keyword and its synonyms, matched as whole replies like compliance keywords. */
    keywords: key('keywords', keywords(), []),
    /** A regular expression (case-insensitive) with named groups, tried when no keyword matched. */
    pattern: optional('pattern', pattern()),
    actions: key('actions', list(ruleAction(), { min: 1, what: 'action' })),
  },
  {
    check(rule, report) {
      // A wrong pattern or keyword list is its own problem; this is about neither being given.
      const keywordCount = Array.isArray(rule.keywords) ? rule.keywords.length : 0;
      if (keywordCount === 0 && rule.pattern === undefined) report([], 'needs keywords or a pattern');
    },
  },
);

const NUMBER = section({
  address: key('address', address()),
  compliance: key('compliance', COMPLIANCE, {}),
  /** Words that count as an expected reply's keyword: `{ YES: [Y, YEP, OK] }`. */
  synonyms: key('synonyms', synonyms(), { YES: ['Y', 'YEP', 'YEAH', 'OK', 'CONFIRM'], NO: ['N', 'NOPE'] }),
  rules: key('rules', list(RULE, { what: 'rule' }), []),
  unmatched: key('unmatched', unmatched(), 'hand_to_apps'),
  intents: key('intents', INTENTS, {}),
  /** Quiet hours of messages sent from this number. */
  quiet_hours: optional('quietHours', QUIET_HOURS),
});

const API_TOKEN = section(
  {
    /** Who holds it; in logs, and the default agent name when it assigns a conversation. */
    name: key('name', name()),
    /** Hex SHA-256 of the token: the token itself is never stored. */
    sha256: key('sha256', sha256Hex()),
    scopes: key('scopes', list(oneOf(API_SCOPES), { min: 1, what: 'scope' })),
  },
  {
    check(token, report) {
      reportDuplicates(token.scopes, (s) => s, report, ['scopes'], (value, first) => `${value} is already listed as scopes[${first}]`);
    },
  },
);

const API = section(
  {
    /** Where the HTTP API and the agent inbox listen; off when absent. */
    listen: optional('listen', hostPort()),
    tokens: key('tokens', list(API_TOKEN, { what: 'token' }), []),
    /** Requests per second each token may make (429 beyond). */
    rate_limit: key('rateLimit', positiveNumber(), 20),
    /** Requests a token may make at once above the steady rate. */
    rate_burst: key('rateBurst', integer({ min: 1 }), 40),
  },
  {
    check(api, report) {
      if (api.listen !== undefined && Array.isArray(api.tokens) && api.tokens.length === 0) {
        report(['tokens'], 'must list at least one token when api.listen is set: without a token nobody can use the API');
      }
      reportDuplicates(api.tokens, (t) => field(t, 'name'), report, ['tokens'], (value, first) => `${value} is already the name of tokens[${first}]`, 'name');
      reportDuplicates(
        api.tokens,
        (t) => (isText(field(t, 'sha256')) ? String(field(t, 'sha256')).toLowerCase() : undefined),
        report,
        ['tokens'],
        (_value, first) => `is the same hash as tokens[${first}]: give each holder a token of its own`,
        'sha256',
      );
    },
  },
);

/** How long personal data and history stay in Postgres; absent means kept until configured. */
const RETENTION = section({
  /** Finished messages (their parts and status history go with them), counted from their final status. */
  messages: optional('messagesMs', duration({ positive: true })),
  receipts: optional('receiptsMs', duration({ positive: true })),
  replies: optional('repliesMs', duration({ positive: true })),
  conversations: optional('conversationsMs', duration({ positive: true })),
  webhook_deliveries: optional('webhookDeliveriesMs', duration({ positive: true })),
  /** Rows deleted per statement: each holds its row locks only for that batch. */
  batch_size: key('batchSize', integer({ min: 1, max: 100_000 }), 1000),
  /** Wait between two batches, so the sweep never takes Postgres from the traffic. */
  pause: key('pauseMs', duration(), '100ms'),
  interval: key('intervalMs', duration({ positive: true }), '10m'),
  /** The dead-letter stream is trimmed to about this many entries. */
  dead_letters_max_len: key('deadLettersMaxLen', integer({ min: 100 }), 100_000),
});

/** The whole configuration file. */
export const CONFIG = section({
  database: key(
    'database',
    section({
      url: key('url', url(['postgres:', 'postgresql:']), 'postgres://postgres@127.0.0.1:5432/parley'),
      /** The pool of the API, reports and periodic jobs (claims, sweeps, retention). */
      pool_size: key('poolSize', integer({ min: 1 }), 10),
      /** The message pipelines' own pool: intake, dispatch, submit status, receipts, customer messages. */
      pipeline_pool_size: key('pipelinePoolSize', integer({ min: 1 }), 4),
      /** Repeated statements prepared once per connection (off behind a pooler that cannot keep them). */
      prepared_statements: key('preparedStatements', boolean(), true),
      /** The hot path's batch statements planned generic from their first run (a session setting; off behind a pooler in transaction mode). */
      generic_plans: key('genericPlans', boolean(), true),
      /** Postgres unreachable this long: every SMSC bind is unbound cleanly until it answers again. */
      outage_unbind_after: key('outageUnbindAfterMs', duration({ positive: true }), '1m'),
    }),
    {},
  ),
  redis: key('redis', section({ url: key('url', url(['redis:', 'rediss:']), 'redis://127.0.0.1:6379'), prefix: key('prefix', string(), 'parley:') }), {}),
  http: key('http', section({ listen: key('listen', hostPort(), '127.0.0.1:9464') }), {}),
  log: key(
    'log',
    section({
      level: key('level', oneOf(LOG_LEVELS), 'info'),
      /** Whether message texts appear in logs (they are personal data). */
      message_text: key('messageText', boolean(), false),
    }),
    {},
  ),
  intake: key(
    'intake',
    section({
      batch_size: key('batchSize', integer({ min: 1 }), 500),
      block: key('blockMs', duration({ positive: true }), '1s'),
      /** An entry pending this long on a dead consumer is claimed by a live one. */
      claim_idle: key('claimIdleMs', duration({ positive: true }), '30s'),
      /** Old name of `daemon.name`: when set, it is the daemon's identity (consumer name included). */
      consumer: optional('consumer', string()),
      max_metadata_bytes: key('maxMetadataBytes', integer({ min: 64, max: 1_048_576 }), 8192),
      // The depth check itself is iterative; the cap keeps what is accepted safe to serialise.
      max_metadata_depth: key('maxMetadataDepth', integer({ min: 1, max: 256 }), 32),
    }),
    {},
  ),
  daemon: key(
    'daemon',
    section({
      /** The daemon's identity across restarts: the host's name unless set. */
      name: key('name', string({ max: 200, ascii: true }), () => hostname()),
      /** A daemon whose heartbeat is this old is dead: its messages and stream entries are taken over. */
      takeover: key('takeoverMs', duration({ positive: true }), '5s'),
    }),
    {},
  ),
  store: key('store', section({ batch_delay: key('batchDelayMs', duration(), '5ms'), batch_size: key('batchSize', integer({ min: 1 }), 500) }), {}),
  shutdown: key(
    'shutdown',
    section(
      {
        /** Time given to in-flight windows to drain before unbinding. */
        grace: key('graceMs', duration(), '10s'),
        /** Hard limit for the whole stop; past it the process exits. */
        force: key('forceMs', duration({ positive: true }), '30s'),
      },
      {
        check({ grace, force }, report) {
          if (typeof grace === 'number' && typeof force === 'number' && force <= grace) {
            report(['force'], `must be longer than shutdown.grace (${formatDuration(grace)}), got ${formatDuration(force)}`);
          }
        },
      },
    ),
    {},
  ),
  receipts: key(
    'receipts',
    section({
      /** After a message's validity, how long a final receipt may still come before it is `expired`. */
      grace: key('graceMs', duration(), '1h'),
      /** Without a validity, how long before a message with no final receipt is `unknown`. */
      unknown_after: key('unknownAfterMs', duration({ positive: true }), '72h'),
      unmatched_horizon: key('unmatchedHorizonMs', duration({ positive: true }), '1h'),
      sweep_interval: key('sweepIntervalMs', duration({ positive: true }), '1m'),
    }),
    {},
  ),
  webhooks: key('webhooks', list(WEBHOOK, { what: 'webhook' }), []),
  conversations: key(
    'conversations',
    section({
      ttl: key('ttlMs', duration({ positive: true }), '24h'),
      reassembly_timeout: key('reassemblyTimeoutMs', duration({ positive: true }), '2m'),
      /** A customer message identical to one this recent (same SMSC, numbers, coding, octets) is a resend. */
      duplicate_window: key('duplicateWindowMs', duration(), '10m'),
    }),
    {},
  ),
  /** What several daemons share through Redis: bind leases and the route buckets. */
  coordination: key(
    'coordination',
    section({
      bind_lease_ttl: key('bindLeaseTtlMs', duration({ positive: true }), '15s'),
      lease_timeout: key('leaseTimeoutMs', duration({ positive: true }), '500ms'),
    }),
    {},
  ),
  smscs: key('smscs', list(SMSC, { min: 1, what: 'SMSC' })),
  routes: key('routes', list(ROUTE, { min: 1, what: 'route' })),
  numbers: key('numbers', list(NUMBER, { what: 'number' }), []),
  health: key('health', section({ stall_after: key('stallAfterMs', duration({ positive: true }), '60s') }), {}),
  api: key('api', API, {}),
  retention: key('retention', RETENTION, {}),
});

export type ParleyConfig = ValueOf<typeof CONFIG>;
export type SmscConfig = ValueOf<typeof SMSC>;
export type TlsConfig = ValueOf<typeof TLS>;
export type RouteConfig = ValueOf<typeof ROUTE>;
export type QuietHoursConfig = ValueOf<typeof QUIET_HOURS>;
export type WebhookConfig = ValueOf<typeof WEBHOOK>;
export type RuleConfig = ValueOf<typeof RULE>;
export type ComplianceConfig = ValueOf<typeof COMPLIANCE>;
export type IntentsConfig = ValueOf<typeof INTENTS>;
export type NumberConfig = ValueOf<typeof NUMBER>;
export type ApiTokenConfig = ValueOf<typeof API_TOKEN>;
export type ApiConfig = ValueOf<typeof API>;
export type RetentionConfig = ValueOf<typeof RETENTION>;

// ---------------------------------------------------------------------------------------------
// Checks across sections: run on what was read without a problem, even when other keys are wrong.

/**
 * The problems that span sections (names referring to other entries, names given twice), judged
 * on the raw file with every value that has a problem of its own left out (`wrong`).
 */
export function checkAcrossSections(raw: Readable, wrong: (path: readonly (string | number)[]) => boolean, report: SectionReport): void {
  const items = (key: string): readonly unknown[] => (Array.isArray(raw[key]) && !wrong([key]) ? (raw[key] as unknown[]) : []);
  const valid = (path: readonly (string | number)[], value: unknown): value is string => isText(value) && !wrong(path);

  const webhookNames = new Set(items('webhooks').flatMap((w, i) => (valid(['webhooks', i, 'name'], field(w, 'name')) ? [field(w, 'name') as string] : [])));
  items('numbers').forEach((n, i) => {
    const rules = field(n, 'rules');
    if (Array.isArray(rules)) {
      rules.forEach((r: unknown, j) => {
        const actions = field(r, 'actions');
        if (!Array.isArray(actions)) return;
        actions.forEach((a: unknown, k) => {
          const path = ['numbers', i, 'rules', j, 'actions', k, 'webhook'];
          const webhook = field(a, 'webhook');
          if (valid(path, webhook) && !wrong(path.slice(0, -1)) && !webhookNames.has(webhook)) {
            report(path, `names no webhook of the webhooks section${didYouMean(webhook, webhookNames)}`);
          }
        });
      });
    }
    const path = ['numbers', i, 'intents', 'nlu_webhook'];
    const nlu = field(field(n, 'intents'), 'nlu_webhook');
    if (valid(path, nlu) && !webhookNames.has(nlu)) report(path, `names no webhook of the webhooks section${didYouMean(nlu, webhookNames)}`);
  });

  const nameAt = (list: string, key: string) => (item: unknown, i: number): string | undefined => (valid([list, i, key], field(item, key)) ? (field(item, key) as string) : undefined);
  const duplicates = (list: string, key: string, reason: (value: string, first: number) => string): void => {
    const keyOf = nameAt(list, key);
    reportDuplicates(items(list).map(keyOf), (v) => v, report, [list], reason, key);
  };
  duplicates('smscs', 'name', (value, first) => `${value} is already the name of smscs[${first}]`);
  duplicates('routes', 'name', (value, first) => `${value} is already the name of routes[${first}]`);
  duplicates('webhooks', 'name', (value, first) => `${value} is already the name of webhooks[${first}]`);
  duplicates('numbers', 'address', (value, first) => `${value} is already listed as numbers[${first}]`);

  // A reference can only be judged when every SMSC has a valid name (otherwise that is the problem).
  if (!Array.isArray(raw['smscs']) || wrong(['smscs'])) return;
  const names = items('smscs').map(nameAt('smscs', 'name'));
  if (!names.every(isText)) return;
  const known = new Set(names);
  items('routes').forEach((route, i) => {
    const smscs = field(route, 'smscs');
    if (!Array.isArray(smscs)) return;
    smscs.forEach((smsc: unknown, j) => {
      if (!valid(['routes', i, 'smscs', j], smsc) || known.has(smsc)) return;
      const suggestion = suggestName(smsc, known);
      const hint = suggestion === undefined ? ` (SMSCs: ${names.join(', ')})` : ` (did you mean ${suggestion}?)`;
      report(['routes', i, 'smscs', j], `unknown SMSC ${describeValue(smsc)}${hint}`);
    });
  });
}
