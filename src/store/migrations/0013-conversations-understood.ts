import { sql, type Kysely } from 'kysely';

/**
 * What each reply meant (src/inbound/intent/): the intent, how sure the reading was, and what it
 * carried (how it was read, the words that decided it, a menu number, a proposed time, whether it
 * was escalated or flagged for review). Indexed by intent for the reports of common topics.
 *
 * And when a message may go (src/outbound/schedule.ts): `send_at` is set on a message held for its
 * payload's send_at or for quiet hours, `held_reason` says which; the partial index serves the
 * release poll.
 *
 * Surveys (src/domain/survey.ts): the message's `survey`; one `survey_runs` row per customer taking
 * a survey (where they are, whether the question was asked again); one `survey_answers` row per
 * answer, valid or not. A/B campaigns (src/domain/campaign.ts): the message's `campaign` and
 * `variant`, indexed for the report.
 *
 * The indexes on replies and messages are built by 0017, concurrently: built here, in the same
 * transaction as the ADD COLUMNs, they held the ACCESS EXCLUSIVE lock for a whole scan of the
 * table and blocked every writer meanwhile (over 250 ms on a million messages under load).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // An ADD COLUMN waits for its brief ACCESS EXCLUSIVE lock at most this long rather than queueing
  // every writer behind it (0008 does the same); a refused migration is simply run again.
  await sql`SET LOCAL lock_timeout = '2s'`.execute(db);
  await sql`ALTER TABLE replies ADD COLUMN intent text, ADD COLUMN intent_confidence real, ADD COLUMN intent_detail jsonb`.execute(db);
  await sql`ALTER TABLE messages ADD COLUMN send_at timestamptz, ADD COLUMN held_reason text`.execute(db);
  await sql`ALTER TABLE messages ADD COLUMN survey jsonb, ADD COLUMN campaign text, ADD COLUMN variant text`.execute(db);
  await sql`
    CREATE TABLE survey_runs (
      id bigserial PRIMARY KEY,
      message_id text NOT NULL UNIQUE,
      name text NOT NULL,
      customer text NOT NULL,
      our_number text NOT NULL,
      definition jsonb NOT NULL,
      position smallint NOT NULL DEFAULT 0,
      reasked boolean NOT NULL DEFAULT false,
      status text NOT NULL DEFAULT 'active',
      started_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX survey_runs_active ON survey_runs (customer, our_number) WHERE status = 'active'`.execute(db);
  await sql`
    CREATE TABLE survey_answers (
      run_id bigint NOT NULL REFERENCES survey_runs (id) ON DELETE CASCADE,
      position smallint NOT NULL,
      kind text NOT NULL,
      reply_id text NOT NULL,
      valid boolean NOT NULL,
      value smallint,
      answer text NOT NULL,
      answered_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, reply_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS survey_answers`.execute(db);
  await sql`DROP TABLE IF EXISTS survey_runs`.execute(db);
  await sql`DROP INDEX IF EXISTS messages_campaign`.execute(db);
  await sql`ALTER TABLE messages DROP COLUMN IF EXISTS survey, DROP COLUMN IF EXISTS campaign, DROP COLUMN IF EXISTS variant`.execute(db);
  await sql`DROP INDEX IF EXISTS messages_held`.execute(db);
  await sql`ALTER TABLE messages DROP COLUMN IF EXISTS send_at, DROP COLUMN IF EXISTS held_reason`.execute(db);
  await sql`DROP INDEX IF EXISTS replies_intent`.execute(db);
  await sql`ALTER TABLE replies DROP COLUMN IF EXISTS intent, DROP COLUMN IF EXISTS intent_confidence, DROP COLUMN IF EXISTS intent_detail`.execute(db);
}
