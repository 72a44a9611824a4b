import type { ReactNode } from "react";

/** What a section shows when it has nothing (no results, no history): says why and what to do. */
export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-zinc-300 p-6 text-center text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
      <p className="font-medium text-zinc-800 dark:text-zinc-200">{title}</p>
      {children ? <div className="mt-1">{children}</div> : null}
    </div>
  );
}

/** An inline error for one section (the backend answered with an error). */
export function ErrorNote({ message }: { message: string }) {
  return (
    <p role="status" className="rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
      {message}
    </p>
  );
}
