/**
 * The validated, frozen configuration every component receives, inferred from the schema
 * (`schema.ts`). YAML keys are snake_case; here they are camelCase and every duration is a number
 * of milliseconds ending in `Ms`. `config/parley.example.yaml` documents each key with its default.
 */
import type { ALPHABETS, API_SCOPES, BIND_MODES, CONCATENATIONS, ID_FORMATS, LOG_LEVELS, UNCERTAIN_SUBMIT, WEBHOOK_EVENTS } from './schema.ts';

export type {
  ApiConfig,
  ApiTokenConfig,
  ComplianceConfig,
  IntentsConfig,
  NumberConfig,
  ParleyConfig,
  QuietHoursConfig,
  RetentionConfig,
  RouteConfig,
  RuleActionConfig,
  RuleConfig,
  SmscConfig,
  TlsConfig,
  UnmatchedConfig,
  WebhookConfig,
} from './schema.ts';

export type BindMode = (typeof BIND_MODES)[number];
export type DefaultAlphabet = (typeof ALPHABETS)[number];
export type Concatenation = (typeof CONCATENATIONS)[number];
export type SmscIdFormat = (typeof ID_FORMATS)[number];
/** What to do with a submit whose response never came (SMPP has no idempotency). */
export type UncertainSubmitPolicy = (typeof UNCERTAIN_SUBMIT)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** What an API token may do: send messages, read messages and conversations, act as an agent. */
export type ApiScope = (typeof API_SCOPES)[number];
