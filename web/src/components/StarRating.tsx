import { useId, useState } from "react";

import { formatStars } from "../lib/format";

interface StarRatingProps {
  /** The current rating (0.5..max in half stars), or null when the user has not rated the film. */
  value: number | null;
  onRate: (value: number) => void;
  /** Take the rating back; the "Clear rating" button shows only when this is given and there is a rating. */
  onClear?: (() => void) | undefined;
  max?: number;
  disabled?: boolean;
  label?: string;
}

const STAR_PATH = "M12 2.8l2.8 5.9 6.4.8-4.7 4.4 1.2 6.4L12 17.2l-5.7 3.1 1.2-6.4-4.7-4.4 6.4-.8z";

function starLabel(value: number): string {
  return `${formatStars(value).replace("★", "")} star${value === 1 ? "" : "s"}`;
}

/** One star drawn empty, half or full: the outline, with the fill clipped to the filled part. */
function Star({ fill }: { fill: 0 | 0.5 | 1 }) {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" className="pointer-events-none absolute inset-0 h-full w-full" strokeWidth="1.5">
      <path d={STAR_PATH} className="fill-transparent stroke-zinc-500 dark:stroke-zinc-400" />
      {fill > 0 ? (
        <path d={STAR_PATH} className="fill-amber-400 stroke-amber-500" style={fill === 0.5 ? { clipPath: "inset(0 50% 0 0)" } : undefined} />
      ) : null}
    </svg>
  );
}

/**
 * Stars in half steps (MovieLens ratings are half stars) as one native radio group of ten choices: arrow keys
 * move by half a star, Tab leaves, screen readers read "3.5 stars". Each star's left half is the half-star choice.
 * Hovering previews a value; clicking (or choosing by keyboard) sends it; "Clear rating" takes it back.
 */
export function StarRating({ value, onRate, onClear, max = 5, disabled = false, label = "Your rating" }: StarRatingProps) {
  const name = useId();
  const [hover, setHover] = useState<number | null>(null);
  const shown = hover ?? value ?? 0;
  return (
    <fieldset className="inline-flex flex-col gap-1" disabled={disabled} data-testid="star-rating">
      <legend className="mb-1 text-sm font-medium">{label}</legend>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <div
          className="flex items-center"
          onMouseLeave={() => {
            setHover(null);
          }}
        >
          {Array.from({ length: max }, (_, i) => {
            const star = i + 1;
            const fill = shown >= star ? 1 : shown >= star - 0.5 ? 0.5 : 0;
            return (
              <span key={star} className="relative flex h-11 w-11 items-stretch">
                <Star fill={fill} />
                {[star - 0.5, star].map((choice) => (
                  <label
                    key={choice}
                    className="relative flex-1 cursor-pointer rounded has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-violet-600"
                    onMouseEnter={() => {
                      setHover(choice);
                    }}
                  >
                    <input
                      type="radio"
                      name={name}
                      value={choice}
                      checked={value === choice}
                      onChange={() => {
                        onRate(choice);
                      }}
                      className="sr-only"
                      aria-label={starLabel(choice)}
                    />
                  </label>
                ))}
              </span>
            );
          })}
        </div>
        <span className="text-sm text-zinc-700 dark:text-zinc-300" aria-live="polite" data-testid="rating-value">
          {hover !== null ? `${formatStars(hover)} of ${max}` : value ? `${formatStars(value)} of ${max}` : "Not rated"}
        </span>
        {onClear && value !== null ? (
          <button
            type="button"
            onClick={onClear}
            className="min-h-11 rounded-md px-2 text-sm text-zinc-700 underline underline-offset-2 hover:text-zinc-950 focus-visible:outline-2 focus-visible:outline-violet-600 dark:text-zinc-300 dark:hover:text-white"
          >
            Clear rating
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}
