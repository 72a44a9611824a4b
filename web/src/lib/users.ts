/** How a user is described to people: counts with the right plural, active years, distinctive taste. */
import type { Trait, UserSummary } from "../api/types";

/** "1 rating", "2 ratings", "1,234 ratings"; `plural` for irregular words. */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? singular : plural}`;
}

/** "2015", "2000–2018", or null when the user never rated anything. */
export function activeYears(user: Pick<UserSummary, "first_rated_at" | "last_rated_at">): string | null {
  if (!user.first_rated_at || !user.last_rated_at) return null;
  const first = new Date(user.first_rated_at).getUTCFullYear();
  const last = new Date(user.last_rated_at).getUTCFullYear();
  return first === last ? String(first) : `${first}–${last}`;
}

/** "2.2× as much as most people" (one decimal; ×10 and above rounded). */
export function liftLabel(trait: Trait): string {
  const value = trait.lift >= 10 ? Math.round(trait.lift).toString() : trait.lift.toFixed(1);
  return `${value}× as much as most people`;
}

/** A one-line description: "Loves Musical, Children · disney" from the distinctive traits, else null. */
export function tasteLine(user: Pick<UserSummary, "taste">): string | null {
  const genres = user.taste.filter((t) => t.kind === "genre").map((t) => t.name);
  const tags = user.taste.filter((t) => t.kind === "tag").map((t) => t.name);
  if (genres.length === 0 && tags.length === 0) return null;
  return [genres.join(", "), tags.join(", ")].filter(Boolean).join(" · ");
}

/** "440 ratings · 2001" or "2,698 ratings · 2000–2018" (and "created here" for app users). */
export function activityLine(user: Pick<UserSummary, "rating_count" | "source" | "first_rated_at" | "last_rated_at">): string {
  const years = activeYears(user);
  const parts = [countOf(user.rating_count, "rating")];
  if (years) parts.push(user.source === "app" ? `since ${years.split("–")[0] ?? years}` : `rated in ${years}`);
  return parts.join(" · ");
}
