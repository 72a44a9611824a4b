import type { ReactNode } from "react";

/** A wide table that scrolls sideways on narrow screens; focusable and named, so keyboard users can scroll it too
 * (arrow keys once focused) and screen readers announce what it holds. */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div
      className="overflow-x-auto rounded focus-visible:outline-2 focus-visible:outline-violet-600"
      tabIndex={0}
      role="region"
      aria-label={label}
    >
      {children}
    </div>
  );
}
