/** Previous/next buttons around "Page N of M" for a paged list; the labels say which way the list runs. */
export function Pager({
  label,
  page,
  pages,
  onPage,
  previous = "Previous",
  next = "Next",
}: {
  label: string;
  page: number;
  pages: number;
  onPage: (page: number) => void;
  previous?: string;
  next?: string;
}) {
  const button =
    "rounded-md border border-zinc-300 px-3 py-1.5 text-sm disabled:opacity-40 dark:border-zinc-700";
  return (
    <nav aria-label={label} className="flex items-center gap-3">
      <button
        type="button"
        disabled={page <= 1}
        onClick={() => {
          onPage(page - 1);
        }}
        className={button}
      >
        {previous}
      </button>
      <span className="text-sm">
        Page {page} of {pages}
      </span>
      <button
        type="button"
        disabled={page >= pages}
        onClick={() => {
          onPage(page + 1);
        }}
        className={button}
      >
        {next}
      </button>
    </nav>
  );
}
