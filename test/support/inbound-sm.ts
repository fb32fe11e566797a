/**
 * A deliver_sm as the bind hands it to the inbound path (InboundSm), for tests that drive the
 * inbound code without a wire: a customer's message from 14155550142 to 12345 on SMSC `carrier`,
 * with the fields a test gives instead.
 */
import type { InboundSm } from '../../src/smpp/bind-types.ts';

export function inboundSm(over: Partial<InboundSm> = {}): InboundSm {
  return {
    command: 'deliver_sm',
    smsc: 'carrier',
    bind: 'carrier#1',
    source: { ton: 1, npi: 1, address: '+14155550142' },
    destination: { ton: 1, npi: 1, address: '12345' },
    esmClass: 0,
    dataCoding: 0,
    shortMessage: Buffer.from('hello'),
    udhi: false,
    ...over,
  };
}
