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
}

export interface MessageEventsTable {
  id: Generated<string>;
  message_id: string;
  status: string;
  previous: string | null;
  at: Generated<Date>;
  detail: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
}

export interface Database {
  daemons: DaemonsTable;
  messages: MessagesTable;
  segments: SegmentsTable;
  message_events: MessageEventsTable;
}
