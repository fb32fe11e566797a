/**
 * A survey as it runs in a conversation: where it stands and the answers recorded.
 */
export interface SurveyRunRow {
  readonly id: string;
  readonly messageId: string;
  readonly name: string;
  readonly definition: Record<string, unknown>;
  readonly position: number;
  readonly reasked: boolean;
  readonly status: 'active' | 'completed';
}

export interface SurveyAnswer {
  readonly position: number;
  readonly kind: string;
  readonly replyId: string;
  readonly valid: boolean;
  readonly value: number | null;
  readonly answer: string;
}
