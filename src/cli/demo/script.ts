/** What the demo's app and order-status service say: the reminder's expected replies, the order answer, the promotion. */

/** The reminder's expected replies (README "The payload", `replies`). */
export const DEMO_YES_ANSWER = 'Great, see you tomorrow at 10:00!';
export const DEMO_NO_ANSWER = 'OK, your appointment is cancelled. Call us on 0800 123 456 to book another.';
export const DEMO_ORDER_TEXT = 'ORDER 1234';
export const DEMO_PROMO_TEXT = 'Spring offer: 20% off your next check-up this week.';

/** What the demo's order-status service answers for an order. */
export function orderAnswer(order: string): string {
  return `Order ${order} shipped today; it arrives Thursday.`;
}
