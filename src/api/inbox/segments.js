// @ts-check
/**
 * Segment planning for the reply box, in the browser: which encoding a text goes in (GSM 7-bit
 * when every character is in the default alphabet, UCS-2 otherwise) and how many parts it takes,
 * counted as Parley's SMPP layer counts them (smpp/text/segmentation.ts countSegments: 160/153
 * septets, 70/67 UCS-2 units; an extension character costs two septets and a surrogate pair two
 * units, and neither is cut across parts). A unit test checks the two agree on a table of texts.
 */

/**
 * @typedef {{ basic: string, extension: string }} Gsm7Alphabet
 * @typedef {{ encoding: 'GSM-7' | 'UCS-2', units: number, segments: number, perSegment: number, remaining: number }} SegmentPlan
 */

/**
 * @param {string} text
 * @param {Gsm7Alphabet} alphabet
 * @returns {SegmentPlan}
 */
export function planSegments(text, alphabet) {
  const basic = new Set(alphabet.basic);
  const extension = new Set(alphabet.extension);
  /** @type {number[]} */
  let costs = [];
  let gsm = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (basic.has(c)) costs.push(1);
    else if (extension.has(c)) costs.push(2);
    else {
      gsm = false;
      break;
    }
  }
  if (!gsm) {
    costs = [];
    for (const ch of text) costs.push(ch.length);
  }
  const single = gsm ? 160 : 70;
  const part = gsm ? 153 : 67;
  const units = costs.reduce((a, b) => a + b, 0);
  const encoding = gsm ? 'GSM-7' : 'UCS-2';
  if (units === 0) return { encoding, units, segments: 0, perSegment: single, remaining: single };
  if (units <= single) return { encoding, units, segments: 1, perSegment: single, remaining: single - units };
  // Greedy fill, as the SMPP layer splits: each part takes as many whole characters as fit.
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments, perSegment: part, remaining: part - used };
}
