import { useId, useState } from "react";

interface StarRatingProps {
  /** The current rating (1..max), or null when the user has not rated the film. */
  value: number | null;
  onRate: (value: number) => void;
  max?: number;
  disabled?: boolean;
  label?: string;
}

/**
 * Stars as a native radio group: arrow keys move and choose, Tab leaves, screen readers read "4 stars, 4 of 5".
 * Hovering previews a value; clicking (or choosing by keyboard) sends it.
 */
export function StarRating({ value, onRate, max = 5, disabled = false, label = "Your rating" }: StarRatingProps) {
  const name = useId();
  const [hover, setHover] = useState<number | null>(null);
  const shown = hover ?? value ?? 0;
  return (
    <fieldset className="inline-flex flex-col gap-1" disabled={disabled} data-testid="star-rating">
      <legend className="mb-1 text-sm font-medium">{label}</legend>
      <div
        className="flex items-center"
        onMouseLeave={() => {
          setHover(null);
        }}
      >
        {Array.from({ length: max }, (_, i) => {
          const star = i + 1;
          const filled = star <= shown;
          return (
            <label
              key={star}
              className="cursor-pointer p-0.5 has-[:focus-visible]:rounded has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-violet-600"
              onMouseEnter={() => {
                setHover(star);
              }}
            >
              <input
                type="radio"
                name={name}
                value={star}
                checked={value === star}
                onChange={() => {
                  onRate(star);
                }}
                className="sr-only"
                aria-label={`${star} star${star === 1 ? "" : "s"}`}
              />
              <svg
                viewBox="0 0 24 24"
                aria-hidden="true"
                className={`h-7 w-7 ${filled ? "fill-amber-400 stroke-amber-500" : "fill-transparent stroke-zinc-400"}`}
                strokeWidth="1.5"
              >
                <path d="M12 2.8l2.8 5.9 6.4.8-4.7 4.4 1.2 6.4L12 17.2l-5.7 3.1 1.2-6.4-4.7-4.4 6.4-.8z" />
              </svg>
            </label>
          );
        })}
        <span className="ml-2 text-sm text-zinc-600 dark:text-zinc-400" aria-live="polite">
          {value ? `${value} / ${max}` : "Not rated"}
        </span>
      </div>
    </fieldset>
  );
}
