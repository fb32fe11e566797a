/**
 * A/B variants (payload `campaign`): `{ "id": "spring-sale", "variants": [{ "name": "A", "text":
 * "..." }, { "name": "B", "text": "...", "weight": 2 }] }`. Each recipient gets one variant,
 * chosen deterministically from the campaign id and the number (a hash, not chance): sending the
 * campaign again, or the same recipient twice, gives the same variant, and variants split the
 * recipients in proportion to their weights (1 each by default). `parley report` compares them.
 */
import { createHash } from 'node:crypto';

export interface Campaign {
  readonly id: string;
  /** The variant this recipient got. */
  readonly variant: string;
}

export interface CampaignVariant {
  readonly name: string;
  readonly text: string;
  readonly weight: number;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Where in [0, 1) a recipient falls for a campaign: the first 8 bytes of SHA-256 of "id\0number". */
export function campaignPosition(campaignId: string, recipient: string): number {
  const digest = createHash('sha256').update(`${campaignId}\0${recipient}`).digest();
  return Number(digest.readBigUInt64BE(0) >> 11n) / 2 ** 53;
}

/** The variant a recipient gets: the one whose share of the total weight covers its position. */
export function pickVariant(campaignId: string, recipient: string, variants: readonly CampaignVariant[]): CampaignVariant {
  const total = variants.reduce((n, v) => n + v.weight, 0);
  let at = campaignPosition(campaignId, recipient) * total;
  for (const v of variants) {
    if (at < v.weight) return v;
    at -= v.weight;
  }
  return variants[variants.length - 1]!;
}

/** The campaign of a payload and the recipient's text, or the reason it is not one. */
export function parseCampaign(v: unknown, recipient: string): { campaign: Campaign; text: string } | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return '"campaign" must be an object';
  const c = v as Record<string, unknown>;
  if (typeof c.id !== 'string' || !NAME.test(c.id)) return '"campaign.id" must be a name (letters, digits, _ . -, at most 64)';
  if (!Array.isArray(c.variants) || c.variants.length < 1 || c.variants.length > 26) return '"campaign.variants" must list 1 to 26 variants';
  const variants: CampaignVariant[] = [];
  for (const [i, raw] of c.variants.entries()) {
    const x = raw as Record<string, unknown> | null;
    if (typeof x !== 'object' || x === null) return `"campaign.variants[${i}]" must be an object`;
    if (typeof x.name !== 'string' || !NAME.test(x.name)) return `"campaign.variants[${i}].name" must be a name`;
    if (variants.some((o) => o.name === x.name)) return `"campaign.variants[${i}].name" repeats ${x.name}`;
    if (typeof x.text !== 'string' || x.text === '') return `"campaign.variants[${i}].text" must be a non-empty text`;
    const weight = x.weight ?? 1;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) return `"campaign.variants[${i}].weight" must be a positive number`;
    variants.push({ name: x.name, text: x.text, weight });
  }
  const chosen = pickVariant(c.id, recipient, variants);
  return { campaign: { id: c.id, variant: chosen.name }, text: chosen.text };
}
