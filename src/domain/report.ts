/**
 * The figures of `parley report`: delivery analytics and the insights of replies, surveys and
 * A/B variants.
 */
/** A value and how often it occurred. */
export interface Counted {
  readonly value: string;
  readonly count: number;
}

export interface ReportFigures {
  readonly accepted: number;
  readonly sent: number;
  readonly delivered: number;
  readonly partiallyDelivered: number;
  readonly failed: number;
  readonly pending: number;
  /** delivered / sent; null when nothing was sent. */
  readonly deliveredRate: number | null;
  /** failed / messages in a final state; null when none is final. */
  readonly failureRate: number | null;
  /** Most frequent first, at most `top`. */
  readonly failureReasons: readonly Counted[];
  readonly receiptLatency: { readonly count: number; readonly p50Seconds: number | null; readonly p95Seconds: number | null };
  readonly replies: number;
  readonly handled: number;
  /** replies / sent; null when nothing was sent. */
  readonly replyRate: number | null;
  readonly resolvedAutomatically: number;
  /** resolvedAutomatically / handled; null when none was handled. */
  readonly resolvedRate: number | null;
  readonly responseTime: { readonly count: number; readonly medianSeconds: number | null };
  readonly matchedKinds: readonly Counted[];
  readonly keywords: readonly Counted[];
  readonly rules: readonly Counted[];
  /** Replies per hour of the day, index 0-23. */
  readonly repliesByHour: readonly number[];
}

export interface RouteFigures extends ReportFigures {
  /** null: replies that answer none of our messages. */
  readonly route: string | null;
}

export interface DayFigures extends RouteFigures {
  /** YYYY-MM-DD in the report's time zone. */
  readonly day: string;
}

export interface NumberFigures {
  readonly number: string;
  readonly sent: number;
  readonly replies: number;
  readonly replyRate: number | null;
}

export interface AnalyticsReport {
  readonly period: { readonly since: Date; readonly until: Date; readonly timeZone: string };
  readonly total: ReportFigures;
  /** The whole period, per route; sorted by route, the unlinked replies (null) last. */
  readonly routes: readonly RouteFigures[];
  /** Per day and route; sorted by day, then route. */
  readonly days: readonly DayFigures[];
  /** Sorted by messages sent, then replies. */
  readonly numbers: readonly NumberFigures[];
}

export interface IntentCount {
  readonly number: string;
  readonly day: string;
  readonly intent: string;
  readonly replies: number;
}

export interface UnmatchedReply {
  readonly number: string;
  readonly day: string;
  readonly text: string;
}

export interface SurveyQuestionFigures {
  readonly position: number;
  readonly kind: string;
  /** Every answer given, valid or not. */
  readonly answers: number;
  /** Runs with a valid answer (the last one counts). */
  readonly valid: number;
  readonly invalid: number;
  /** Value -> runs (ratings and choices). */
  readonly distribution: Readonly<Record<string, number>>;
  readonly average: number | null;
  readonly csat: number | null;
}

export interface SurveyFigures {
  readonly name: string;
  readonly started: number;
  readonly completed: number;
  readonly questions: readonly SurveyQuestionFigures[];
}

export interface VariantFigures {
  readonly campaign: string;
  readonly variant: string;
  readonly messages: number;
  readonly sent: number;
  readonly delivered: number;
  readonly replied: number;
  readonly positive: number;
  readonly deliveryRate: number | null;
  readonly replyRate: number | null;
  readonly positiveRate: number | null;
  readonly medianReplySeconds: number | null;
  /** Two-sided p-value of the reply rate against the campaign's first variant; null for it. */
  readonly replyRatePValue: number | null;
}

export interface Insights {
  readonly intents: readonly IntentCount[];
  readonly unmatched: readonly UnmatchedReply[];
  readonly surveys: readonly SurveyFigures[];
  readonly campaigns: readonly VariantFigures[];
}
