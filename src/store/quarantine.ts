/**
 * Deliver_sm that no store could take (poison: a value Postgres refuses, found by splitting the
 * batch) are kept here whole, with the reason, so the SMSC can be answered and stop resending
 * them. Text columns hold only what is certain to be storable (names and addresses with NUL and
 * lone surrogates replaced); the carrier's octets are bytea.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import { toStorableText } from '../domain/storable-text.ts';
import type { QuarantinedPdu } from '../domain/quarantine.ts';

const storable = (s: string): string => toStorableText(s).text;

export async function quarantinePdu(db: Db, pdu: QuarantinedPdu): Promise<void> {
  // TLV values are flat (ids, numbers, a network error pair): their strings are made storable.
  const tlvs =
    pdu.tlvs === null
      ? null
      : JSON.stringify(pdu.tlvs, (_key, value: unknown) => (typeof value === 'string' ? storable(value) : value));
  await sql`
    INSERT INTO quarantined_pdus (pipeline, command, smsc, bind, source_addr, destination_addr, esm_class, data_coding,
      short_message, message_payload, tlvs, reason, raw_pdu)
    VALUES (${pdu.pipeline}, ${storable(pdu.command)}, ${storable(pdu.smsc)}, ${storable(pdu.bind)}, ${storable(pdu.source)},
      ${storable(pdu.destination)}, ${pdu.esmClass}, ${pdu.dataCoding}, ${pdu.shortMessage}, ${pdu.messagePayload},
      ${tlvs}::jsonb, ${storable(pdu.reason)}, ${pdu.frame})`.execute(db);
}
