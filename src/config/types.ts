/**
 * The validated, frozen configuration every component receives. YAML keys are snake_case; here
 * they are camelCase and every duration is a number of milliseconds ending in `Ms`.
 * `config/parley.example.yaml` documents each key with its default.
 */
export type BindMode = 'transceiver' | 'transmitter+receiver';
export type DefaultAlphabet = 'gsm7' | 'ascii' | 'latin1';
export type Concatenation = 'udh8' | 'udh16' | 'sar' | 'payload';
export type SmscIdFormat = 'auto' | 'exact' | 'case' | 'leading_zeros' | 'hex_to_decimal' | 'decimal_to_hex';
/** What to do with a submit whose response never came (SMPP has no idempotency). */
export type UncertainSubmitPolicy = 'resend' | 'unknown';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface TlsConfig {
  readonly enabled: boolean;
  /** PEM file with the CA(s) to trust; the system's when absent. */
  readonly caFile?: string;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

export interface SmscConfig {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly tls: TlsConfig;
  readonly systemId: string;
  readonly password: string;
  readonly systemType: string;
  readonly bind: BindMode;
  readonly binds: number;
  readonly window: number;
  readonly connectTimeoutMs: number;
  readonly bindTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly enquireLinkIntervalMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Largest command_length accepted from this SMSC. */
  readonly maxPduLength: number;
  /** What data_coding 0 means for this SMSC. */
  readonly defaultAlphabet: DefaultAlphabet;
  readonly concatenation: Concatenation;
  /** 'auto' derives TON/NPI from the address: alphanumeric, short code or international. */
  readonly sourceTon: number | 'auto';
  readonly sourceNpi: number | 'auto';
  readonly destTon: number | 'auto';
  readonly destNpi: number | 'auto';
  readonly idFormat: SmscIdFormat;
  /**
   * Treat a deliver_sm whose text reads as an SMPP 3.4 Appendix B receipt as a receipt even when
   * esm_class says nothing (some carriers send receipts with esm_class 0).
   */
  readonly detectReceiptText: boolean;
  /**
   * Most binds to this SMSC across every daemon (carriers cap binds per account), held through
   * leases in Redis; absent: no cap, each daemon holds `binds`.
   */
  readonly maxBinds?: number;
}

export interface RouteConfig {
  readonly name: string;
  readonly prefixes: readonly string[];
  readonly smscs: readonly string[];
  /** Segments per second. */
  readonly tps: number;
  /** Segments that may go at once above the steady rate. */
  readonly burst: number;
  /** Sender used when a message has no `from`. */
  readonly defaultFrom?: string;
  readonly uncertainSubmit: UncertainSubmitPolicy;
  /**
   * With `uncertainSubmit: resend`, most submits of one segment that get no usable answer (no
   * submit_sm_resp in time, an unreadable one): each may reach the customer as a copy. Resends
   * are spaced by the backoff; after the last the message is `unknown`.
   */
  readonly uncertainMaxAttempts: number;
  /** A message still queued this long after Parley accepted it is expired instead of sent. */
  readonly maxQueueAgeMs?: number;
  /** Quiet hours of messages on this route (a number's own quiet hours come first). */
  readonly quietHours?: QuietHoursConfig;
}

/**
 * Hours in the recipient's local time when messages are held (not dropped) and sent when they
 * end. The recipient's zone: the payload's `time_zone`, else the zones of the number's country,
 * else `timeZone`, else UTC.
 */
export interface QuietHoursConfig {
  /** 24-hour "HH:MM"; `end` may be earlier than `start` (quiet across midnight). */
  readonly start: string;
  readonly end: string;
  readonly timeZone?: string;
  /** Answers to a customer who wrote within this long go at once; 0 holds them too. */
  readonly exemptAnswersWithinMs: number;
}

export type WebhookEvent = 'message.status' | 'message.inbound';

export interface WebhookConfig {
  readonly name: string;
  readonly url: string;
  /** HMAC-SHA256 key for X-Parley-Signature. */
  readonly secret: string;
  readonly timeoutMs: number;
  /** Deliveries tried at most this often (with backoff) before being recorded as failed. */
  readonly maxAttempts: number;
  /**
   * Calls to this webhook in flight at once; more wait their turn behind it alone, so one slow
   * webhook never holds up replies that do not call it.
   */
  readonly concurrency: number;
  /** Events sent to this webhook as they happen; rules may also call it by name. */
  readonly subscribe: readonly WebhookEvent[];
}

/** What a keyword rule does; actions run in order. Texts are templates (`{{ groups.order }}`). */
export type RuleActionConfig =
  | { readonly kind: 'reply'; readonly text: string }
  | { readonly kind: 'set_tags'; readonly tags: Readonly<Record<string, string>> }
  | { readonly kind: 'set_state'; readonly state: string }
  | { readonly kind: 'webhook'; readonly webhook: string; readonly fallback?: string }
  | { readonly kind: 'hand_to_apps' };

export interface RuleConfig {
  readonly name: string;
  /** The keyword and its synonyms, matched as whole replies like compliance keywords. */
  readonly keywords: readonly string[];
  /** A regular expression (case-insensitive) with named groups, tried when no keyword matched. */
  readonly pattern?: string;
  readonly actions: readonly RuleActionConfig[];
}

export type UnmatchedConfig = { readonly kind: 'silent' } | { readonly kind: 'hand_to_apps' } | { readonly kind: 'reply'; readonly text: string };

/** Compliance keywords and texts of one number; what is left out takes Parley's standard lists. */
export interface ComplianceConfig {
  /** Whether STOP opts the customer out of this number only, or of every number. */
  readonly scope: 'number' | 'global';
  readonly optOut?: readonly string[];
  readonly optIn?: readonly string[];
  readonly help?: readonly string[];
  readonly optOutReply?: string;
  readonly optInReply?: string;
  readonly helpReply?: string;
  /**
   * Who is texting and how to reach them: carriers require both in the HELP answer. With both set
   * and no `helpReply`, the answer is built from them; `parley check-config` warns when the HELP
   * text lacks the brand, a contact or how to stop.
   */
  readonly brand?: string;
  readonly contact?: string;
}

/** How replies are read beyond exact keywords (`src/inbound/intent/`). */
export interface IntentsConfig {
  /**
   * A reply whose intent is read with less confidence than this (0..1) is handed to the apps
   * instead of being answered automatically; opt-outs below it are flagged for review.
   */
  readonly threshold: number;
  /** The customers' time zone (IANA name), for times in replies ("tomorrow at 10"). */
  readonly timeZone: string;
  /** A webhook asked for the intent of replies the built-in reading does not recognise. */
  readonly nluWebhook?: string;
}

export interface NumberConfig {
  readonly address: string;
  readonly compliance: ComplianceConfig;
  /** Words that count as an expected reply's keyword: `{ YES: [Y, YEP, OK] }`. */
  readonly synonyms: Readonly<Record<string, readonly string[]>>;
  readonly rules: readonly RuleConfig[];
  readonly unmatched: UnmatchedConfig;
  readonly intents: IntentsConfig;
  /** Quiet hours of messages sent from this number. */
  readonly quietHours?: QuietHoursConfig;
}

/** What an API token may do: send messages, read messages and conversations, act as an agent. */
export type ApiScope = 'send' | 'read' | 'agent';

export interface ApiTokenConfig {
  /** Who holds it; in logs, and the default agent name when it assigns a conversation. */
  readonly name: string;
  /** Lower-case hex SHA-256 of the token: the token itself is never stored. */
  readonly sha256: string;
  readonly scopes: readonly ApiScope[];
}

export interface ApiConfig {
  /** Where the HTTP API and the agent inbox listen; off when absent. */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly tokens: readonly ApiTokenConfig[];
  /** Requests per second each token may make (429 beyond). */
  readonly rateLimit: number;
  /** Requests a token may make at once above the steady rate. */
  readonly rateBurst: number;
}

export interface ParleyConfig {
  readonly database: {
    readonly url: string;
    readonly poolSize: number;
    /** Postgres unreachable this long: every SMSC bind is unbound cleanly until it answers again. */
    readonly outageUnbindAfterMs: number;
  };
  readonly redis: { readonly url: string; readonly prefix: string };
  readonly http: { readonly listen: { readonly host: string; readonly port: number } };
  readonly log: {
    readonly level: LogLevel;
    /** Whether message texts appear in logs (they are personal data); off by default. */
    readonly messageText: boolean;
  };
  readonly daemon: {
    /**
     * The daemon's identity: its consumer name in the intake group, the owner of the messages it
     * works on, its heartbeat row. A daemon restarted under the same name resumes its own work at
     * once; two live processes may not share one (the pid tells them apart).
     */
    readonly name: string;
    /** A daemon whose heartbeat is this old is dead: its messages and stream entries are taken over. */
    readonly takeoverMs: number;
  };
  readonly intake: {
    /** Entries read from the stream per batch. */
    readonly batchSize: number;
    /** Longest a read blocks waiting for entries. */
    readonly blockMs: number;
    /** An entry pending this long on a dead consumer is claimed by a live one. */
    readonly claimIdleMs: number;
    /** Old name of `daemon.name`: when set, it is the daemon's identity (consumer name included). */
    readonly consumer?: string;
    /** Largest `metadata` (and `conversation.tags`) accepted, in bytes of JSON; larger is dead-lettered. */
    readonly maxMetadataBytes: number;
    /** Deepest nesting of `metadata` (and `conversation.tags`) accepted; deeper is dead-lettered. */
    readonly maxMetadataDepth: number;
  };
  readonly store: {
    /** Writes wait at most this long to join a batch. */
    readonly batchDelayMs: number;
    readonly batchSize: number;
  };
  readonly shutdown: {
    /** Time given to in-flight windows to drain before unbinding. */
    readonly graceMs: number;
    /** Hard limit for the whole stop; past it the process exits. */
    readonly forceMs: number;
  };
  readonly receipts: {
    /** After a message's validity, how long a final receipt may still come before it is `expired`. */
    readonly graceMs: number;
    /** Without a validity, how long before a message with no final receipt is `unknown`. */
    readonly unknownAfterMs: number;
    /** Receipts that matched nothing this long are counted as unmatched (they stay stored). */
    readonly unmatchedHorizonMs: number;
    /** How often the expiry sweep runs. */
    readonly sweepIntervalMs: number;
  };
  readonly webhooks: readonly WebhookConfig[];
  readonly conversations: {
    /** Session window an outbound message opens when its payload sets none; a reply within it joins. */
    readonly ttlMs: number;
    /** A concatenated reply still missing parts after this long is released, flagged incomplete. */
    readonly reassemblyTimeoutMs: number;
    /**
     * A customer message identical to one received this recently (same SMSC, numbers, coding and
     * octets) is the SMSC sending it again, not a new message.
     */
    readonly duplicateWindowMs: number;
  };
  /** What several daemons share through Redis: bind leases and the route buckets. */
  readonly coordination: {
    /** A bind lease lapses this long after its daemon stopped renewing it (renewed every third). */
    readonly bindLeaseTtlMs: number;
    /** A route bucket or lease call unanswered this long counts as Redis unreachable. */
    readonly leaseTimeoutMs: number;
  };
  readonly smscs: readonly SmscConfig[];
  readonly routes: readonly RouteConfig[];
  readonly numbers: readonly NumberConfig[];
  readonly health: {
    /** A pipeline whose waiting work has not moved this long is reported stalled (/readyz, parley_pipeline_stalled). */
    readonly stallAfterMs: number;
  };
  readonly api: ApiConfig;
  readonly retention: RetentionConfig;
}

/** How long personal data and history stay in Postgres; absent means kept until configured. */
export interface RetentionConfig {
  /** Finished messages (their parts and status history go with them), counted from their final status. */
  readonly messagesMs?: number;
  /** Delivery receipts, counted from their arrival. */
  readonly receiptsMs?: number;
  /** Handled customer messages and their parts, counted from their arrival. */
  readonly repliesMs?: number;
  /** Conversations, counted from their expiry. */
  readonly conversationsMs?: number;
  /** Finished webhook deliveries, counted from when they finished. */
  readonly webhookDeliveriesMs?: number;
  /** Rows deleted per statement: each holds its row locks only for that batch. */
  readonly batchSize: number;
  /** Wait between two batches, so the sweep never takes Postgres from the traffic. */
  readonly pauseMs: number;
  /** How often the sweep runs. */
  readonly intervalMs: number;
  /** The dead-letter stream is trimmed to about this many entries. */
  readonly deadLettersMaxLen: number;
}
