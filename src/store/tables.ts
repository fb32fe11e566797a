/**
 * Postgres tables as kysely sees them. Column names are snake_case, as in SQL; rows leave
 * `store/` only as Parley's own types (see messages.ts).
 */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface DaemonsTable {
  name: string;
  host: string;
  pid: number;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
}

export interface MessagesTable {
  id: string;
  to_addr: string;
  from_addr: string | null;
  body: string;
  route: string;
  priority: number;
  dlr: boolean;
  validity_seconds: number | null;
  conversation: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  replies: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  metadata: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  status: string;
  smsc: string | null;
  segments: number | null;
  error_code: string | null;
  error_reason: string | null;
  owner: string | null;
  attempts: Generated<number>;
  possible_duplicate: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  submitted_at: Date | null;
  final_at: Date | null;
  delivered_segments: Generated<number>;
  reply_to: string | null;
  /** The outbound entry's payload as received, when NUL or lone surrogates were replaced in it. */
  original_payload: Generated<Buffer | null>;
  /** Held until then (send_at or quiet hours); null when it may go at once (migration 0013). */
  send_at: Date | null;
  held_reason: string | null;
  survey: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  campaign: string | null;
  variant: string | null;
  expires_at: Date | null;
}

export interface SegmentsTable {
  message_id: string;
  seq: number;
  total: number;
  smsc: string;
  bind: string | null;
  smsc_message_id: string | null;
  command_status: number | null;
  status: string;
  attempts: Generated<number>;
  possible_duplicate: Generated<boolean>;
  submitted_at: Timestamp;
  responded_at: Timestamp | null;
  match_key: string | null;
  receipt_state: string | null;
  error_code: string | null;
  network_error: string | null;
  final_at: Timestamp | null;
}

export interface SubmitAttemptsTable {
  id: Generated<string>;
  message_id: string;
  seq: number;
  attempt: number;
  smsc: string;
  bind: string | null;
  smsc_message_id: string | null;
  match_key: string | null;
  command_status: number | null;
  possible_duplicate: Generated<boolean>;
  submitted_at: Timestamp;
  responded_at: Timestamp | null;
}

export interface ReceiptsTable {
  id: Generated<string>;
  fingerprint: string;
  smsc: string;
  bind: string | null;
  smsc_message_id: string;
  /** The carrier ids it may be matched by, best first; empty once matched as it was stored. */
  match_keys: string[];
  state: string;
  final: boolean;
  segment_status: string | null;
  error_code: string | null;
  network_error: string | null;
  submit_date: Date | null;
  done_date: Date | null;
  body: string;
  tlvs: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  received_at: Generated<Date>;
  message_id: string | null;
  seq: number | null;
  matched_at: Date | null;
  /** The body's octets as received, when NUL or lone surrogates were replaced in `body`. */
  original_body: Generated<Buffer | null>;
  source_addr: string | null;
  dest_addr: string | null;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  webhook: string;
  event_type: string;
  body: JSONColumnType<Record<string, unknown>, string, string>;
  status: Generated<string>;
  attempts: Generated<number>;
  last_error: string | null;
  last_status: number | null;
  next_attempt_at: Generated<Date>;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

export interface MessageEventsTable {
  id: Generated<string>;
  message_id: string;
  status: string;
  previous: string | null;
  at: Generated<Date>;
  detail: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
}

export interface InboundPartsTable {
  id: Generated<string>;
  fingerprint: string;
  smsc: string;
  bind: string | null;
  from_addr: string;
  to_addr: string;
  concat_key: string | null;
  total: number;
  seq: number;
  data_coding: number;
  body: Buffer;
  received_at: Generated<Date>;
  reply_id: string | null;
}

export interface ConversationsTable {
  id: Generated<string>;
  customer: string;
  our_number: string;
  state: string | null;
  tags: JSONColumnType<Record<string, unknown>, string, string>;
  opened_at: Generated<Date>;
  last_activity_at: Generated<Date>;
  expires_at: Date;
  last_outbound_id: string | null;
  /** The person handling it (migration 0010); automation does not answer meanwhile. */
  assigned_to: string | null;
  assigned_at: Date | null;
  closed_at: Date | null;
  last_inbound_at: Date | null;
  last_outbound_at: Date | null;
}

export interface RepliesTable {
  id: string;
  smsc: string;
  from_addr: string;
  to_addr: string;
  body: string;
  parts: number;
  incomplete: Generated<boolean>;
  data_coding: number;
  decode_problem: string | null;
  received_at: Date;
  status: Generated<string>;
  lease_until: Date | null;
  conversation_id: string | null;
  in_reply_to: string | null;
  matched_kind: string | null;
  keyword: string | null;
  rule: string | null;
  actions: JSONColumnType<unknown[] | null, string | null, string | null>;
  resolved_automatically: boolean | null;
  answer_message_id: string | null;
  /**
   * No longer written (since 0.1.x, see CHANGELOG): a reply's response time is its answer's
   * messages.submitted_at, through answer_message_id. Kept so that daemons of the previous version
   * keep working beside new ones during a rolling upgrade; a later migration may drop it.
   */
  answer_submitted_at: Date | null;
  intent: string | null;
  intent_confidence: number | null;
  intent_detail: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  handled_at: Date | null;
  error: string | null;
}

export interface OptOutsTable {
  customer: string;
  scope: string;
  opted_out: boolean;
  keyword: string | null;
  reply_id: string | null;
  changed_at: Generated<Date>;
}

/** A deliver_sm that could not be stored, answered all the same so the SMSC stops resending it. */
export interface QuarantinedPdusTable {
  id: Generated<string>;
  pipeline: string;
  command: string;
  smsc: string;
  bind: string | null;
  source_addr: string;
  destination_addr: string;
  esm_class: number;
  data_coding: number;
  short_message: Buffer;
  message_payload: Buffer | null;
  tlvs: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  reason: string;
  quarantined_at: Generated<Date>;
  /** The PDU as the SMSC sent it, header included (null before migration 0014). */
  raw_pdu: Buffer | null;
}

export interface SurveyRunsTable {
  id: Generated<string>;
  message_id: string;
  name: string;
  customer: string;
  our_number: string;
  definition: JSONColumnType<Record<string, unknown>, string, string>;
  position: Generated<number>;
  reasked: Generated<boolean>;
  status: Generated<string>;
  started_at: Generated<Date>;
  updated_at: Generated<Date>;
  completed_at: Date | null;
}

export interface SurveyAnswersTable {
  run_id: string;
  position: number;
  kind: string;
  reply_id: string;
  valid: boolean;
  value: number | null;
  answer: string;
  answered_at: Generated<Date>;
}

export interface PausedTable {
  kind: string;
  name: string;
  paused_at: Generated<Date>;
  reason: string | null;
}

export interface OptOutHashesTable {
  customer_hash: string;
  scope: string;
  changed_at: Generated<Date>;
}

/** One dispatch attempt counted for a message (migration 0015); messages.attempts holds older ones. */
export interface DispatchAttemptsTable {
  message_id: string;
  counted_at: Generated<Date>;
}

export interface Database {
  daemons: DaemonsTable;
  messages: MessagesTable;
  segments: SegmentsTable;
  submit_attempts: SubmitAttemptsTable;
  dispatch_attempts: DispatchAttemptsTable;
  message_events: MessageEventsTable;
  receipts: ReceiptsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  inbound_parts: InboundPartsTable;
  conversations: ConversationsTable;
  replies: RepliesTable;
  opt_outs: OptOutsTable;
  quarantined_pdus: QuarantinedPdusTable;
  survey_runs: SurveyRunsTable;
  survey_answers: SurveyAnswersTable;
  paused: PausedTable;
  opt_out_hashes: OptOutHashesTable;
}
