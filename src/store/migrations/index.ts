import type { Migration } from 'kysely';
import * as m0001 from './0001-outbound.ts';
import * as m0002 from './0002-receipts.ts';
import * as m0003 from './0003-receipt-segment-status.ts';
import * as m0004 from './0004-two-way.ts';
import * as m0005 from './0005-reply-answer-time.ts';
import * as m0006 from './0006-poison.ts';
import * as m0007 from './0007-submit-attempts.ts';
import * as m0008 from './0008-operations.ts';
import * as m0009 from './0009-retention-indexes.ts';
import * as m0010 from './0010-conversation-handling.ts';
import * as m0013 from './0013-conversations-understood.ts';
import * as m0014 from './0014-quarantine-raw-pdu.ts';
import * as m0015 from './0015-dispatch-attempts.ts';
import * as m0016 from './0016-segments-fillfactor.ts';
import * as m0017 from './0017-conversation-indexes.ts';
import * as m0018 from './0018-hot-index-diet.ts';
import * as m0019 from './0019-message-events-key.ts';
import * as m0020 from './0020-pending-receipts-lookup.ts';
import * as m0021 from './0021-hot-path-foreign-keys.ts';
import * as m0022 from './0022-messages-fillfactor.ts';
import * as m0023 from './0023-unread-keys.ts';
import * as m0024 from './0024-reassembly-unseen.ts';
import * as m0025 from './0025-cancelled-index.ts';
import * as m0026 from './0026-pending-receipt-keys.ts';
import * as m0027 from './0027-unowned-queued-index.ts';
import * as m0028 from './0028-held-unowned-index.ts';
import * as m0029 from './0029-queued-since-index.ts';
import * as m0030 from './0030-claimable-replies-indexes.ts';

/** A migration module; one that exports `transactional = false` runs outside a transaction. */
export interface MigrationModule extends Migration {
  /** false for a migration that cannot run in a transaction (CREATE INDEX CONCURRENTLY). */
  readonly transactional?: boolean;
}

/**
 * Every migration, in order. Listed in code rather than read from a folder so that the daemon
 * runs the same set whether it is started from source or from a bundle.
 *
 * Each migration runs in a transaction of its own unless it exports `transactional = false`
 * (store/db.ts). New migrations that build an index on an existing table build it CONCURRENTLY
 * (./concurrently.ts), and none rewrites a big table in one statement: backfills go in batches.
 */
export const MIGRATIONS: Readonly<Record<string, MigrationModule>> = {
  '0001-outbound': m0001,
  '0002-receipts': m0002,
  '0003-receipt-segment-status': m0003,
  '0004-two-way': m0004,
  '0005-reply-answer-time': m0005,
  '0006-poison': m0006,
  '0007-submit-attempts': m0007,
  '0008-operations': m0008,
  '0009-retention-indexes': m0009,
  '0010-conversation-handling': m0010,
  '0013-conversations-understood': m0013,
  '0014-quarantine-raw-pdu': m0014,
  '0015-dispatch-attempts': m0015,
  '0016-segments-fillfactor': m0016,
  '0017-conversation-indexes': m0017,
  '0018-hot-index-diet': m0018,
  '0019-message-events-key': m0019,
  '0020-pending-receipts-lookup': m0020,
  '0021-hot-path-foreign-keys': m0021,
  '0022-messages-fillfactor': m0022,
  '0023-unread-keys': m0023,
  '0024-reassembly-unseen': m0024,
  '0025-cancelled-index': m0025,
  '0026-pending-receipt-keys': m0026,
  '0027-unowned-queued-index': m0027,
  '0028-held-unowned-index': m0028,
  '0029-queued-since-index': m0029,
  '0030-claimable-replies-indexes': m0030,
};
