/**
 * Routing of validated outbound messages, one decision each: queued on its route (sender and
 * expiry fixed), refused with a final status (no route matches, already expired), or rejected
 * outright (a route named that does not exist, a text longer than can be concatenated). Intake
 * applies it to stream entries and to the messages Parley sends itself alike.
 */
import { QUEUE_AGE_ERROR } from '../domain/queue-age.ts';
import { countSegments, MAX_PARTS } from '../smpp/text/index.ts';
import type { DefaultAlphabet } from '../config/types.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { RoutedMessage } from '../domain/routed-message.ts';
import type { StatusChange } from '../domain/events.ts';
import type { Router } from './router.ts';
import { defaultFromOf } from './router.ts';

/** A validated message, with what Parley's own senders may add. */
export type RoutedInput = OutboundMessage & {
  readonly replyTo?: string;
  readonly bypassOptOut?: boolean;
  /** performance.now() when the customer's message this answers arrived. */
  readonly answerTo?: number;
  /** The payload as sent, when NUL or lone surrogates in it were replaced. */
  readonly originalPayload?: Buffer;
};

export interface RoutingDecisions {
  readonly queued: RoutedMessage[];
  readonly refused: { message: RoutedMessage; change: StatusChange }[];
  readonly rejected: { message: OutboundMessage; code: string; reason: string }[];
}

/**
 * Texts up to this many UTF-16 units fit in 255 parts whatever the alphabet (UCS-2: 67 a part),
 * so only longer ones are counted at intake.
 */
const ALWAYS_FITS = MAX_PARTS * 67;

/**
 * Routes validated messages: to be queued, refused with a final status, or rejected outright.
 * `alphabetFor` gives the default alphabet of a route's first SMSC, to count parts the way it will split.
 */
export function decideRoutes(messages: readonly RoutedInput[], router: Router, alphabetFor: (route: string) => DefaultAlphabet): RoutingDecisions {
  const queued: RoutedMessage[] = [];
  const refused: { message: RoutedMessage; change: StatusChange }[] = [];
  const rejected: { message: OutboundMessage; code: string; reason: string }[] = [];
  for (const message of messages) {
    const choice = router.choose(message.to, message.route);
    if (!choice.ok && choice.code === 'unknown_route') {
      rejected.push({ message, code: choice.code, reason: choice.reason });
      continue;
    }
    if (!choice.ok) {
      refused.push({
        message: { ...message, route: '' },
        change: { id: message.id, status: 'failed', previous: 'queued', errorCode: 'no_route', errorReason: choice.reason },
      });
      continue;
    }
    const parts = message.text.length <= ALWAYS_FITS ? 1 : countSegments(message.text, alphabetFor(choice.route.name));
    if (parts > MAX_PARTS) {
      rejected.push({ message, code: 'too_many_parts', reason: `the text needs ${parts} parts; at most ${MAX_PARTS} can be concatenated` });
      continue;
    }
    // The sender is fixed here, not at dispatch: conversations and opt-outs key on it.
    const routed: RoutedMessage = { ...message, route: choice.route.name, from: message.from ?? defaultFromOf(choice.route), expiresAt: expiryOf(message, choice.route.maxQueueAgeMs) };
    if (routed.expiresAt !== undefined && routed.expiresAt.getTime() <= Date.now()) {
      refused.push({ message: routed, change: { id: message.id, status: 'expired', previous: 'queued', ...QUEUE_AGE_ERROR } });
      continue;
    }
    queued.push(routed);
  }
  return { queued, refused, rejected };
}

/**
 * The earlier of the payload's expires_at and the route's max_queue_age, counted from now or, for
 * a message scheduled later (send_at), from when it is due: a scheduled send is not stale before
 * its time. (Quiet hours are not exempt: a code held overnight is as stale as one stuck in a queue.)
 */
function expiryOf(message: OutboundMessage, maxQueueAgeMs: number | undefined): Date | undefined {
  const from = Math.max(Date.now(), message.sendAt?.getTime() ?? 0);
  const byRoute = maxQueueAgeMs === undefined ? undefined : from + maxQueueAgeMs;
  const own = message.expiresAt?.getTime();
  const at = own === undefined ? byRoute : byRoute === undefined ? own : Math.min(own, byRoute);
  return at === undefined ? undefined : new Date(at);
}
