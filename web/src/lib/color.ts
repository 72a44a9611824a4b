/** Colours derived from data: placeholder poster hues and chart series colours. */

/** A stable hue from a title, so the same film always gets the same placeholder colours. */
export function titleHue(title: string): number {
  let hash = 0;
  for (let i = 0; i < title.length; i += 1) hash = (hash * 31 + title.charCodeAt(i)) >>> 0;
  return hash % 360;
}

const PALETTE = ["#7c3aed", "#0891b2", "#ea580c", "#16a34a", "#db2777", "#ca8a04", "#4f46e5"];

/** A colour per series index, repeated after the palette runs out. */
export function seriesColor(index: number): string {
  return PALETTE[index % PALETTE.length] ?? "#7c3aed";
}

