/** Number and date formats of the models dashboard, in one place so every panel writes a figure the same way. */
import type { Estimate } from "../api/types";

/** A 95% interval as "low–high" with `digits` decimals ("" when either end is missing). */
export function formatCI(low: number | null | undefined, high: number | null | undefined, digits = 3): string {
  return low != null && high != null ? `${low.toFixed(digits)}–${high.toFixed(digits)}` : "";
}

/** A signed figure: "+0.0123" or "-0.0040". */
export function signed(value: number, digits = 4): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;
}

/** A share as a percentage with one decimal ("—" when there is nothing to estimate from). */
export function percent(value: number | null | undefined): string {
  return value == null ? "—" : `${(value * 100).toFixed(1)}%`;
}

/** An estimate's interval in percent: "10.1–14.9%" ("" without one). */
export function percentCI(estimate: Estimate): string {
  const { low, high } = estimate;
  return low != null && high != null ? `${(low * 100).toFixed(1)}–${(high * 100).toFixed(1)}%` : "";
}

/** A difference of two shares in percentage points: "+1.2 pp". */
export function points(value: number): string {
  return `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)} pp`;
}

/** A p-value as people read it: "0.031", or "< 0.001". */
export function pValue(p: number): string {
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}

/** An ISO timestamp as "2026-11-30 08:15 UTC" (the same in every time zone and test run); the input if unreadable. */
export function utcMinute(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** What a paired difference's 95% interval allows us to say: wholly above 0 beats, wholly below 0 is worse. */
export function pairedVerdict(ci: readonly number[], against: string): string {
  const [low = 0, high = 0] = ci;
  return low > 0 ? `beats ${against}` : high < 0 ? `worse than ${against}` : `no clear difference from ${against}`;
}

/** A rating in stars as people write it: "4★", "3.5★". */
export function formatStars(value: number): string {
  return `${Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1)}★`;
}
