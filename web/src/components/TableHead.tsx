import type { ReactNode } from "react";

/** One column of a data table's header. */
export interface Column {
  label: ReactNode;
  /** Right-aligned, like the figures under it. */
  numeric?: boolean;
  /** What the column holds, shown on hover. */
  title?: string;
}

/** A data table's header row: a `<th scope="col">` per column, in small uppercase letters. With `flushEnd` the last
 * column has no right padding, like the cells under it (the table's right edge). */
export function TableHead({
  columns,
  flushEnd = false,
  className,
}: {
  columns: Column[];
  flushEnd?: boolean;
  className?: string;
}) {
  return (
    <thead className={[className, "text-xs uppercase text-zinc-600 dark:text-zinc-400"].filter(Boolean).join(" ")}>
      <tr>
        {columns.map((column, i) => {
          const padded = !(flushEnd && i === columns.length - 1);
          const classes = ["py-2", padded && "pr-4", column.numeric && "text-right"].filter(Boolean).join(" ");
          return (
            <th key={i} scope="col" className={classes} title={column.title}>
              {column.label}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}
