import type { Migration } from 'kysely';
import * as m0001 from './0001-outbound.ts';
import * as m0002 from './0002-receipts.ts';
import * as m0003 from './0003-receipt-segment-status.ts';
import * as m0004 from './0004-two-way.ts';
import * as m0005 from './0005-reply-answer-time.ts';
import * as m0006 from './0006-poison.ts';
import * as m0007 from './0007-submit-attempts.ts';
import * as m0010 from './0010-conversation-handling.ts';
import * as m0013 from './0013-conversations-understood.ts';
import * as m0014 from './0014-quarantine-raw-pdu.ts';

/**
 * Every migration, in order. Listed in code rather than read from a folder so that the daemon
 * runs the same set whether it is started from source or from a bundle.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-outbound': m0001,
  '0002-receipts': m0002,
  '0003-receipt-segment-status': m0003,
  '0004-two-way': m0004,
  '0005-reply-answer-time': m0005,
  '0006-poison': m0006,
  '0007-submit-attempts': m0007,
  '0010-conversation-handling': m0010,
  '0013-conversations-understood': m0013,
  '0014-quarantine-raw-pdu': m0014,
};
