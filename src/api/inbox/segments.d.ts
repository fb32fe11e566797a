/** Types of segments.js (plain JavaScript served to the browser as it is). */
export interface Gsm7Alphabet {
  readonly basic: string;
  readonly extension: string;
}
export interface SegmentPlan {
  readonly encoding: 'GSM-7' | 'UCS-2';
  readonly units: number;
  readonly segments: number;
  readonly perSegment: number;
  readonly remaining: number;
}
export function planSegments(text: string, alphabet: Gsm7Alphabet): SegmentPlan;
