import { useState } from "react";

import { titleHue } from "../lib/color";

const TMDB_BASE = "https://image.tmdb.org/t/p/w342";

interface PosterProps {
  title: string;
  year?: number | null;
  posterPath?: string | null;
  size?: "card" | "large";
}

/**
 * The TMDB poster when the data has a path; otherwise (or when the image fails, e.g. offline) generated art with
 * the title on a gradient, so the page never shows a broken image.
 */
export function Poster({ title, year, posterPath, size = "card" }: PosterProps) {
  const [failed, setFailed] = useState(false);
  const showImage = Boolean(posterPath) && !failed;
  const hue = titleHue(title);
  return (
    <div
      className={`relative aspect-[2/3] w-full overflow-hidden rounded-lg bg-zinc-200 dark:bg-zinc-800 ${
        size === "large" ? "shadow-lg" : ""
      }`}
    >
      {showImage ? (
        <img
          src={`${TMDB_BASE}${posterPath ?? ""}`}
          alt={`Poster of ${title}`}
          loading="lazy"
          decoding="async"
          className="h-full w-full object-cover"
          onError={() => {
            setFailed(true);
          }}
        />
      ) : (
        <div
          role="img"
          aria-label={`Poster of ${title}`}
          data-testid="poster-placeholder"
          className={`flex h-full w-full flex-col justify-end overflow-hidden text-white ${size === "large" ? "p-4" : "p-2"}`}
          style={{
            backgroundImage: `linear-gradient(160deg, hsl(${hue} 65% 45%), hsl(${(hue + 50) % 360} 70% 22%))`,
          }}
        >
          <span className={`line-clamp-4 font-semibold leading-tight drop-shadow ${size === "large" ? "text-2xl" : "text-xs"}`}>
            {title}
          </span>
          {year ? <span className="text-xs opacity-80">{year}</span> : null}
        </div>
      )}
    </div>
  );
}
