/**
 * The configuration schema: for each field of `ParleyConfig`, its YAML key and what it accepts,
 * plus the checks that span several keys. Defaults are not here but in `defaults.ts`.
 * To add a key: add the field to `types.ts`, an entry here (the compiler insists), its default (if
 * any) to `defaults.ts`, and its documentation to `config/parley.example.yaml`.
 */
import { DEFAULTS } from './defaults.ts';
import { formatDuration } from './duration.ts';
import { linearPatternProblem } from '../lib/linear-pattern.ts';
import { MIN_WEBHOOK_SECRET_LENGTH } from '../domain/webhook-signature.ts';
import { isTimeZone } from '../lib/time-zone.ts';
import {
  type At,
  type Field,
  type Loose,
  INVALID,
  autoOr,
  boolean,
  describeValue,
  duration,
  hostPort,
  integer,
  isPlainMapping,
  list,
  oneOf,
  positiveNumber,
  section,
  string,
  suggestName,
  url,
} from './fields.ts';
import type {
  BindMode,
  Concatenation,
  DefaultAlphabet,
  LogLevel,
  NumberConfig,
  ParleyConfig,
  RouteConfig,
  SmscConfig,
  SmscIdFormat,
  TlsConfig,
  UncertainSubmitPolicy,
  WebhookConfig,
  WebhookEvent,
  ComplianceConfig,
  IntentsConfig,
  QuietHoursConfig,
  RuleActionConfig,
  RuleConfig,
  UnmatchedConfig,
  ApiConfig,
  ApiScope,
  ApiTokenConfig,
} from './types.ts';

/** Every member of a string union, checked by the compiler (a key missing or extra is an error). */
const allOf = <U extends string>(members: Record<U, true>): readonly U[] => Object.keys(members) as U[];

const LOG_LEVELS = allOf<LogLevel>({ trace: true, debug: true, info: true, warn: true, error: true, fatal: true });
const BIND_MODES = allOf<BindMode>({ transceiver: true, 'transmitter+receiver': true });
const ALPHABETS = allOf<DefaultAlphabet>({ gsm7: true, ascii: true, latin1: true });
const CONCATENATIONS = allOf<Concatenation>({ udh8: true, udh16: true, sar: true, payload: true });
const ID_FORMATS = allOf<SmscIdFormat>({
  auto: true,
  exact: true,
  case: true,
  leading_zeros: true,
  hex_to_decimal: true,
  decimal_to_hex: true,
});
const UNCERTAIN_SUBMIT = allOf<UncertainSubmitPolicy>({ resend: true, unknown: true });
const WEBHOOK_EVENTS = allOf<WebhookEvent>({ 'message.status': true, 'message.inbound': true });
const API_SCOPES = allOf<ApiScope>({ send: true, read: true, agent: true });

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

const TLS = section<TlsConfig>(
  {
    enabled: { key: 'enabled', field: boolean() },
    caFile: { key: 'ca_file', field: string(), optional: true },
    servername: { key: 'servername', field: string(), optional: true },
    rejectUnauthorized: { key: 'reject_unauthorized', field: boolean() },
  },
  DEFAULTS.tls,
);

/** `tls: false`, `tls: true`, or `tls: { enabled?, ca_file?, servername?, reject_unauthorized? }`. */
const tls = (): Field<TlsConfig> => ({
  read(value, at) {
    if (typeof value === 'boolean' || value === 'true' || value === 'false') {
      return TLS.read({ enabled: value === true || value === 'true' }, at);
    }
    if (isPlainMapping(value)) return TLS.read(value, at);
    return at.problem(`must be true, false or a mapping (enabled, ca_file, servername, reject_unauthorized), got ${describeValue(value)}`);
  },
  write(value, options) {
    const plain = value.caFile === undefined && value.servername === undefined && value.rejectUnauthorized;
    return plain ? value.enabled : TLS.write(value, options);
  },
});

// ---------------------------------------------------------------------------------------------
// Sections

const SMSC = section<SmscConfig>(
  {
    name: { key: 'name', field: name() },
    host: { key: 'host', field: host() },
    port: { key: 'port', field: integer({ min: 1, max: 65_535 }) },
    tls: { key: 'tls', field: tls() },
    // SMPP 3.4 C-Octet strings: system_id 16, password 9, system_type 13 octets with the NUL.
    systemId: { key: 'system_id', field: string({ max: 15, ascii: true }) },
    password: { key: 'password', field: string({ min: 0, max: 8, ascii: true, secret: true }) },
    systemType: { key: 'system_type', field: string({ min: 0, max: 12, ascii: true }) },
    bind: { key: 'bind', field: oneOf(BIND_MODES) },
    binds: { key: 'binds', field: integer({ min: 1 }) },
    window: { key: 'window', field: integer({ min: 1 }) },
    connectTimeoutMs: { key: 'connect_timeout', field: duration({ positive: true }) },
    bindTimeoutMs: { key: 'bind_timeout', field: duration({ positive: true }) },
    responseTimeoutMs: { key: 'response_timeout', field: duration({ positive: true }) },
    enquireLinkIntervalMs: { key: 'enquire_link_interval', field: duration({ positive: true }) },
    reconnectMinMs: { key: 'reconnect_min', field: duration({ positive: true }) },
    reconnectMaxMs: { key: 'reconnect_max', field: duration({ positive: true }) },
    maxPduLength: { key: 'max_pdu_length', field: integer({ min: 1_024, max: 16_777_216 }) },
    defaultAlphabet: { key: 'default_alphabet', field: oneOf(ALPHABETS) },
    concatenation: { key: 'concatenation', field: oneOf(CONCATENATIONS) },
    sourceTon: { key: 'source_ton', field: autoOr({ min: 0, max: 255 }) },
    sourceNpi: { key: 'source_npi', field: autoOr({ min: 0, max: 255 }) },
    destTon: { key: 'dest_ton', field: autoOr({ min: 0, max: 255 }) },
    destNpi: { key: 'dest_npi', field: autoOr({ min: 0, max: 255 }) },
    idFormat: { key: 'id_format', field: oneOf(ID_FORMATS) },
    detectReceiptText: { key: 'detect_receipt_text', field: boolean() },
    maxBinds: { key: 'max_binds', field: integer({ min: 1 }), optional: true },
  },
  DEFAULTS.smsc,
  (smsc, at) => {
    const { reconnectMinMs: min, reconnectMaxMs: max } = smsc;
    if (min !== undefined && max !== undefined && min > max) {
      at.key('reconnect_min').problem(`must not be longer than reconnect_max (${formatDuration(max)}), got ${formatDuration(min)}`);
    }
    if (smsc.bind === 'transmitter+receiver' && smsc.maxBinds !== undefined && smsc.maxBinds < 2) {
      at.key('max_binds').problem(`must be at least 2 with bind: transmitter+receiver (each pair is two binds), got ${smsc.maxBinds}`);
    }
  },
);

/** An IANA time zone name the platform knows ("Europe/Paris", "America/New_York", "UTC"). */
const timeZone = (): Field<string> =>
  string({ check: (value) => (isTimeZone(value) ? undefined : 'must be an IANA time zone name such as "Europe/Paris" or "UTC"') });

/** A local time of day, 24-hour "HH:MM". */
const clockTime = (): Field<string> =>
  string({ check: (value) => (/^([01]\d|2[0-3]):[0-5]\d$/.test(value) ? undefined : 'must be a 24-hour time such as "21:00"') });

const QUIET_HOURS = section<QuietHoursConfig>(
  {
    start: { key: 'start', field: clockTime() },
    end: { key: 'end', field: clockTime() },
    timeZone: { key: 'time_zone', field: timeZone(), optional: true },
    exemptAnswersWithinMs: { key: 'exempt_answers_within', field: duration() },
  },
  DEFAULTS.quiet_hours,
);

const ROUTE = section<RouteConfig>(
  {
    name: { key: 'name', field: name() },
    prefixes: { key: 'prefixes', field: list(prefix(), { min: 1, what: 'prefix' }) },
    smscs: { key: 'smscs', field: list(name(), { min: 1, what: 'SMSC' }) },
    tps: { key: 'tps', field: positiveNumber() },
    burst: { key: 'burst', field: integer({ min: 1 }) },
    defaultFrom: { key: 'default_from', field: address(), optional: true },
    uncertainSubmit: { key: 'uncertain_submit', field: oneOf(UNCERTAIN_SUBMIT) },
    uncertainMaxAttempts: { key: 'uncertain_max_attempts', field: integer({ min: 1, max: 100 }) },
    quietHours: { key: 'quiet_hours', field: QUIET_HOURS, optional: true },
    maxQueueAgeMs: { key: 'max_queue_age', field: duration({ positive: true }), optional: true },
  },
  DEFAULTS.route,
  (route, at) => {
    reportDuplicates(route.smscs, (s) => s, at.key('smscs'), (value, first) => `${value} is already listed as smscs[${first}]`);
  },
);

const WEBHOOK = section<WebhookConfig>(
  {
    name: { key: 'name', field: name() },
    url: { key: 'url', field: url(['http:', 'https:']) },
    secret: {
      key: 'secret',
      // Short HMAC keys can be guessed offline from one signed request.
      field: string({ secret: true, min: MIN_WEBHOOK_SECRET_LENGTH }),
    },
    timeoutMs: { key: 'timeout', field: duration({ positive: true }) },
    maxAttempts: { key: 'max_attempts', field: integer({ min: 1, max: 100 }) },
    concurrency: { key: 'concurrency', field: integer({ min: 1, max: 1000 }) },
    subscribe: { key: 'subscribe', field: list(oneOf(WEBHOOK_EVENTS), { what: 'event' }) },
  },
  DEFAULTS.webhook,
);

/**
 * A regular expression source the linear-time engine runs (RE2 syntax, case-insensitive): a
 * backreference or lookaround is refused here, with why, rather than on the first reply.
 */
const pattern = (): Field<string> =>
  string({ check: (t) => linearPatternProblem(t, 'i') });

const ACTION_KINDS = ['reply', 'webhook', 'set_tags', 'set_state', 'hand_to_apps'] as const;

/**
 * One action, written as a one-key mapping: `reply: "text"`, `webhook: name` (with an optional
 * `fallback: "text"` beside it), `set_tags: { key: value }`, `set_state: name`, `hand_to_apps: true`.
 */
const ruleAction = (): Field<RuleActionConfig> => ({
  read(value, at) {
    if (!isPlainMapping(value)) return at.problem(`must be a mapping such as { reply: "text" } or { webhook: name }, got ${describeValue(value)}`);
    const kinds = ACTION_KINDS.filter((k) => value[k] !== undefined);
    const extra = Object.keys(value).filter((k) => !(ACTION_KINDS as readonly string[]).includes(k) && k !== 'fallback');
    for (const k of extra) at.key(k).problem(`unknown key${suggestName(k, [...ACTION_KINDS, 'fallback']) ? ` (did you mean ${suggestName(k, [...ACTION_KINDS, 'fallback'])}?)` : ''}`);
    if (kinds.length !== 1) return at.problem(`must name exactly one action of ${ACTION_KINDS.join(', ')}`);
    const kind = kinds[0]!;
    if (value.fallback !== undefined && kind !== 'webhook') return at.key('fallback').problem('only goes with a webhook action');
    const text = string({ min: 1 });
    switch (kind) {
      case 'reply': {
        const t = text.read(value.reply, at.key('reply'));
        return t === INVALID ? t : { kind, text: t };
      }
      case 'webhook': {
        const w = name().read(value.webhook, at.key('webhook'));
        const f = value.fallback === undefined ? undefined : text.read(value.fallback, at.key('fallback'));
        if (w === INVALID || f === INVALID) return INVALID;
        return f === undefined ? { kind, webhook: w } : { kind, webhook: w, fallback: f };
      }
      case 'set_state': {
        const t = text.read(value.set_state, at.key('set_state'));
        return t === INVALID ? t : { kind, state: t };
      }
      case 'set_tags': {
        const tags = value.set_tags;
        if (!isPlainMapping(tags)) return at.key('set_tags').problem(`must be a mapping of tag: value, got ${describeValue(tags)}`);
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(tags)) {
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return at.key('set_tags').key(k).problem('must be a text');
          out[k] = String(v);
        }
        return { kind, tags: out };
      }
      case 'hand_to_apps':
        if (value.hand_to_apps !== true && value.hand_to_apps !== 'true') return at.key('hand_to_apps').problem('must be true');
        return { kind };
    }
  },
  write(value) {
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
});

/** `silent`, `hand_to_apps`, or `{ reply: "text" }`. */
const unmatched = (): Field<UnmatchedConfig> => ({
  read(value, at) {
    if (value === 'silent' || value === 'hand_to_apps') return { kind: value };
    if (isPlainMapping(value) && typeof value.reply === 'string' && Object.keys(value).length === 1 && value.reply !== '') {
      return { kind: 'reply', text: value.reply };
    }
    return at.problem(`must be silent, hand_to_apps or { reply: "text" }, got ${describeValue(value)}`);
  },
  write: (value) => (value.kind === 'reply' ? { reply: value.text } : value.kind),
});

/** `{ KEYWORD: [synonym, ...] }`. */
const synonyms = (): Field<Readonly<Record<string, readonly string[]>>> => ({
  read(value, at) {
    if (!isPlainMapping(value)) return at.problem(`must be a mapping of keyword: [synonyms], got ${describeValue(value)}`);
    const out: Record<string, readonly string[]> = {};
    const words = list(string({ min: 1 }), { what: 'synonym' });
    for (const [k, v] of Object.entries(value)) {
      const read = words.read(v, at.key(k));
      if (read !== INVALID) out[k] = read;
    }
    return out;
  },
  write: (value) => value,
});

const COMPLIANCE = section<ComplianceConfig>(
  {
    scope: { key: 'scope', field: oneOf(['number', 'global'] as const) },
    optOut: { key: 'opt_out', field: list(string({ min: 1 }), { min: 1, what: 'keyword' }), optional: true },
    optIn: { key: 'opt_in', field: list(string({ min: 1 }), { what: 'keyword' }), optional: true },
    help: { key: 'help', field: list(string({ min: 1 }), { what: 'keyword' }), optional: true },
    optOutReply: { key: 'opt_out_reply', field: string({ min: 0 }), optional: true },
    optInReply: { key: 'opt_in_reply', field: string({ min: 0 }), optional: true },
    helpReply: { key: 'help_reply', field: string({ min: 0 }), optional: true },
    brand: { key: 'brand', field: string(), optional: true },
    contact: { key: 'contact', field: string(), optional: true },
  },
  DEFAULTS.compliance,
);

/** A number from 0 to 1 (a confidence). */
const fraction = (): Field<number> => ({
  read(value, at) {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n) || n < 0 || n > 1) return at.problem(`must be a number from 0 to 1, got ${describeValue(value)}`);
    return n;
  },
  write: (value) => value,
});

const INTENTS = section<IntentsConfig>(
  {
    threshold: { key: 'threshold', field: fraction() },
    timeZone: { key: 'time_zone', field: timeZone() },
    nluWebhook: { key: 'nlu_webhook', field: name(), optional: true },
  },
  DEFAULTS.intents,
);

const RULE = section<RuleConfig>(
  {
    name: { key: 'name', field: name() },
    keywords: { key: 'keywords', field: list(string({ min: 1 }), { what: 'keyword' }) },
    pattern: { key: 'pattern', field: pattern(), optional: true },
    actions: { key: 'actions', field: list(ruleAction(), { min: 1, what: 'action' }) },
  },
  DEFAULTS.rule,
  (rule, at) => {
    if ((rule.keywords?.length ?? 0) === 0 && rule.pattern === undefined) at.problem('needs keywords or a pattern');
  },
);

const NUMBER = section<NumberConfig>(
  {
    address: { key: 'address', field: address() },
    compliance: { key: 'compliance', field: COMPLIANCE },
    synonyms: { key: 'synonyms', field: synonyms() },
    rules: { key: 'rules', field: list(RULE, { what: 'rule' }) },
    unmatched: { key: 'unmatched', field: unmatched() },
    intents: { key: 'intents', field: INTENTS },
    quietHours: { key: 'quiet_hours', field: QUIET_HOURS, optional: true },
  },
  DEFAULTS.number,
);

/** A token's SHA-256 in hex (`printf %s "$TOKEN" | sha256sum`). */
const sha256Hex = (): Field<string> =>
  string({ secret: true, check: (t) => (/^[0-9a-fA-F]{64}$/.test(t) ? undefined : 'must be the 64 hex digits of the token\'s SHA-256') });

const API_TOKEN = section<ApiTokenConfig>(
  {
    name: { key: 'name', field: name() },
    sha256: { key: 'sha256', field: sha256Hex() },
    scopes: { key: 'scopes', field: list(oneOf(API_SCOPES), { min: 1, what: 'scope' }) },
  },
  {},
  (token, at) => {
    reportDuplicates(token.scopes, (s) => s, at.key('scopes'), (value, first) => `${value} is already listed as scopes[${first}]`);
  },
);

const API = section<ApiConfig>(
  {
    listen: { key: 'listen', field: hostPort(), optional: true },
    tokens: { key: 'tokens', field: list(API_TOKEN, { what: 'token' }) },
    rateLimit: { key: 'rate_limit', field: positiveNumber() },
    rateBurst: { key: 'rate_burst', field: integer({ min: 1 }) },
  },
  DEFAULTS.api,
  (api, at) => {
    if (api.listen !== undefined && api.tokens !== undefined && api.tokens.length === 0) {
      at.key('tokens').problem('must list at least one token when api.listen is set: without a token nobody can use the API');
    }
    reportDuplicates(api.tokens, (t) => t?.name, at.key('tokens'), (value, first) => `${value} is already the name of tokens[${first}]`, 'name');
    reportDuplicates(
      api.tokens,
      (t) => t?.sha256?.toLowerCase(),
      at.key('tokens'),
      (_value, first) => `is the same hash as tokens[${first}]: give each holder a token of its own`,
      'sha256',
    );
  },
);

/** The whole configuration file. */
export const CONFIG = section<ParleyConfig>(
  {
    database: {
      key: 'database',
      field: section<ParleyConfig['database']>(
        {
          url: { key: 'url', field: url(['postgres:', 'postgresql:']) },
          poolSize: { key: 'pool_size', field: integer({ min: 1 }) },
          outageUnbindAfterMs: { key: 'outage_unbind_after', field: duration({ positive: true }) },
        },
        DEFAULTS.database,
      ),
    },
    redis: {
      key: 'redis',
      field: section<ParleyConfig['redis']>(
        {
          url: { key: 'url', field: url(['redis:', 'rediss:']) },
          prefix: { key: 'prefix', field: string() },
        },
        DEFAULTS.redis,
      ),
    },
    http: {
      key: 'http',
      field: section<ParleyConfig['http']>({ listen: { key: 'listen', field: hostPort() } }, DEFAULTS.http),
    },
    log: {
      key: 'log',
      field: section<ParleyConfig['log']>(
        {
          level: { key: 'level', field: oneOf(LOG_LEVELS) },
          messageText: { key: 'message_text', field: boolean() },
        },
        DEFAULTS.log,
      ),
    },
    intake: {
      key: 'intake',
      field: section<ParleyConfig['intake']>(
        {
          batchSize: { key: 'batch_size', field: integer({ min: 1 }) },
          blockMs: { key: 'block', field: duration({ positive: true }) },
          claimIdleMs: { key: 'claim_idle', field: duration({ positive: true }) },
          consumer: { key: 'consumer', field: string(), optional: true },
          maxMetadataBytes: { key: 'max_metadata_bytes', field: integer({ min: 64, max: 1_048_576 }) },
          // The depth check itself is iterative; the cap keeps what is accepted safe to serialise.
          maxMetadataDepth: { key: 'max_metadata_depth', field: integer({ min: 1, max: 256 }) },
        },
        DEFAULTS.intake,
      ),
    },
    daemon: {
      key: 'daemon',
      field: section<ParleyConfig['daemon']>(
        {
          name: { key: 'name', field: string({ max: 200, ascii: true }) },
          takeoverMs: { key: 'takeover', field: duration({ positive: true }) },
        },
        DEFAULTS.daemon,
      ),
    },
    store: {
      key: 'store',
      field: section<ParleyConfig['store']>(
        {
          batchDelayMs: { key: 'batch_delay', field: duration() },
          batchSize: { key: 'batch_size', field: integer({ min: 1 }) },
        },
        DEFAULTS.store,
      ),
    },
    shutdown: {
      key: 'shutdown',
      field: section<ParleyConfig['shutdown']>(
        {
          graceMs: { key: 'grace', field: duration() },
          forceMs: { key: 'force', field: duration({ positive: true }) },
        },
        DEFAULTS.shutdown,
        ({ graceMs: grace, forceMs: force }, at) => {
          if (grace !== undefined && force !== undefined && force <= grace) {
            at.key('force').problem(`must be longer than shutdown.grace (${formatDuration(grace)}), got ${formatDuration(force)}`);
          }
        },
      ),
    },
    receipts: {
      key: 'receipts',
      field: section<ParleyConfig['receipts']>(
        {
          graceMs: { key: 'grace', field: duration() },
          unknownAfterMs: { key: 'unknown_after', field: duration({ positive: true }) },
          unmatchedHorizonMs: { key: 'unmatched_horizon', field: duration({ positive: true }) },
          sweepIntervalMs: { key: 'sweep_interval', field: duration({ positive: true }) },
        },
        DEFAULTS.receipts,
      ),
    },
    webhooks: { key: 'webhooks', field: list(WEBHOOK, { what: 'webhook' }) },
    conversations: {
      key: 'conversations',
      field: section<ParleyConfig['conversations']>(
        {
          ttlMs: { key: 'ttl', field: duration({ positive: true }) },
          reassemblyTimeoutMs: { key: 'reassembly_timeout', field: duration({ positive: true }) },
          duplicateWindowMs: { key: 'duplicate_window', field: duration() },
        },
        DEFAULTS.conversations,
      ),
    },
    coordination: {
      key: 'coordination',
      field: section<ParleyConfig['coordination']>(
        {
          bindLeaseTtlMs: { key: 'bind_lease_ttl', field: duration({ positive: true }) },
          leaseTimeoutMs: { key: 'lease_timeout', field: duration({ positive: true }) },
        },
        DEFAULTS.coordination,
      ),
    },
    smscs: { key: 'smscs', field: list(SMSC, { min: 1, what: 'SMSC' }) },
    routes: { key: 'routes', field: list(ROUTE, { min: 1, what: 'route' }) },
    numbers: { key: 'numbers', field: list(NUMBER, { what: 'number' }) },
    health: {
      key: 'health',
      field: section<ParleyConfig['health']>({ stallAfterMs: { key: 'stall_after', field: duration({ positive: true }) } }, DEFAULTS.health),
    },
    api: { key: 'api', field: API },
    retention: {
      key: 'retention',
      field: section<ParleyConfig['retention']>(
        {
          messagesMs: { key: 'messages', field: duration({ positive: true }), optional: true },
          receiptsMs: { key: 'receipts', field: duration({ positive: true }), optional: true },
          repliesMs: { key: 'replies', field: duration({ positive: true }), optional: true },
          conversationsMs: { key: 'conversations', field: duration({ positive: true }), optional: true },
          webhookDeliveriesMs: { key: 'webhook_deliveries', field: duration({ positive: true }), optional: true },
          batchSize: { key: 'batch_size', field: integer({ min: 1, max: 100_000 }) },
          pauseMs: { key: 'pause', field: duration() },
          intervalMs: { key: 'interval', field: duration({ positive: true }) },
          deadLettersMaxLen: { key: 'dead_letters_max_len', field: integer({ min: 100 }) },
        },
        DEFAULTS.retention,
      ),
    },
  },
  DEFAULTS.root,
  checkAcrossSections,
);

// ---------------------------------------------------------------------------------------------
// Checks across entries

function didYouMeanName(value: string, names: Iterable<string>): string {
  const near = suggestName(value, names);
  return near ? ` (did you mean ${near}?)` : '';
}

function checkAcrossSections(config: Loose<ParleyConfig>, at: At): void {
  const webhookNames = new Set((config.webhooks ?? []).map((w) => w?.name).filter((n): n is string => typeof n === 'string'));
  (config.numbers ?? []).forEach((n, i) =>
    (n?.rules ?? []).forEach((r, j) =>
      (r?.actions ?? []).forEach((a, k) => {
        if (a?.kind === 'webhook' && a.webhook !== undefined && !webhookNames.has(a.webhook)) {
          at.key('numbers').index(i).key('rules').index(j).key('actions').index(k).key('webhook')
            .problem(`names no webhook of the webhooks section${didYouMeanName(a.webhook, webhookNames)}`);
        }
      }),
    ),
  );
  (config.numbers ?? []).forEach((n, i) => {
    const nlu = n?.intents?.nluWebhook;
    if (nlu !== undefined && !webhookNames.has(nlu)) {
      at.key('numbers').index(i).key('intents').key('nlu_webhook').problem(`names no webhook of the webhooks section${didYouMeanName(nlu, webhookNames)}`);
    }
  });
  const smscs = config.smscs ?? [];
  reportDuplicates(smscs, (s) => s?.name, at.key('smscs'), (value, first) => `${value} is already the name of smscs[${first}]`, 'name');
  reportDuplicates(
    config.routes ?? [],
    (r) => r?.name,
    at.key('routes'),
    (value, first) => `${value} is already the name of routes[${first}]`,
    'name',
  );
  reportDuplicates(
    config.webhooks ?? [],
    (w) => w?.name,
    at.key('webhooks'),
    (value, first) => `${value} is already the name of webhooks[${first}]`,
    'name',
  );
  reportDuplicates(
    config.numbers ?? [],
    (n) => n?.address,
    at.key('numbers'),
    (value, first) => `${value} is already listed as numbers[${first}]`,
    'address',
  );

  // A reference can only be judged when every SMSC has a valid name (otherwise that is the problem).
  const names = smscs.map((s) => s?.name);
  if (config.smscs === undefined || !names.every((n): n is string => typeof n === 'string')) return;
  const known = new Set(names);
  (config.routes ?? []).forEach((route, i) => {
    route?.smscs?.forEach((smsc, j) => {
      if (smsc === undefined || known.has(smsc)) return;
      const suggestion = suggestName(smsc, known);
      const hint = suggestion === undefined ? ` (SMSCs: ${names.join(', ')})` : ` (did you mean ${suggestion}?)`;
      at.key('routes').index(i).key('smscs').index(j).problem(`unknown SMSC ${describeValue(smsc)}${hint}`);
    });
  });
}

/** Reports each item whose key repeats an earlier item's, at `<list>[i].<key>` (or `<list>[i]`). */
function reportDuplicates<T>(
  items: readonly T[] | undefined,
  keyOf: (item: T) => string | undefined,
  at: At,
  reason: (value: string, first: number) => string,
  key?: string,
): void {
  const seen = new Map<string, number>();
  items?.forEach((item, i) => {
    const value = keyOf(item);
    if (value === undefined) return;
    const first = seen.get(value);
    if (first === undefined) seen.set(value, i);
    else (key === undefined ? at.index(i) : at.index(i).key(key)).problem(reason(describeValue(value), first));
  });
}
