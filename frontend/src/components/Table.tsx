// A sortable table that stays fast with tens of thousands of rows: only the rows in view (and a
// few around them) are in the page.
import { useMemo, useRef, useState, type ReactNode } from "react";

/** One column: its header, how to show a row, and how to sort by it. */
export type Column<T> = {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** A sort value; columns without one cannot be sorted. */
  sort?: (row: T) => number | string | null | undefined;
  className?: string;
};

/** Which column sorts the rows, and which way. */
export type SortState = { key: string; descending: boolean } | null;

/** Compares sort values: numbers before strings, missing values last either way. */
export function compareValues(
  a: number | string | null | undefined,
  b: number | string | null | undefined,
): number {
  const missingA = a === null || a === undefined || (typeof a === "number" && Number.isNaN(a));
  const missingB = b === null || b === undefined || (typeof b === "number" && Number.isNaN(b));
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return String(a).localeCompare(String(b));
}

/** The rows in `sort` order (stable; missing values stay last). */
export function sortRows<T>(rows: T[], columns: Array<Column<T>>, sort: SortState): T[] {
  const column = sort && columns.find((c) => c.key === sort.key);
  if (!sort || !column?.sort) return rows;
  const by = column.sort;
  const keyed = rows.map((row, i) => ({ row, i, v: by(row) }));
  keyed.sort((x, y) => {
    const missing = x.v === null || x.v === undefined;
    const otherMissing = y.v === null || y.v === undefined;
    if (missing || otherMissing) return missing === otherMissing ? x.i - y.i : missing ? 1 : -1;
    const order = compareValues(x.v, y.v);
    return (sort.descending ? -order : order) || x.i - y.i;
  });
  return keyed.map((k) => k.row);
}

const ROW_HEIGHT = 33;
const OVERSCAN = 10;

/**
 * The table. `onSort` (optional) is told of sort changes, for callers that sort on the server
 * when not every row is loaded; without it, rows are sorted here.
 */
export function Table<T>({
  rows,
  columns,
  rowKey,
  caption,
  height = 560,
  sort: controlled,
  onSort,
  selected,
  empty = "Nothing here yet.",
}: {
  rows: T[];
  columns: Array<Column<T>>;
  rowKey: (row: T) => string;
  caption: string;
  height?: number;
  sort?: SortState;
  onSort?: (sort: SortState) => void;
  selected?: (row: T) => boolean;
  empty?: ReactNode;
}) {
  const [local, setLocal] = useState<SortState>(null);
  const sort = controlled !== undefined ? controlled : local;
  const sorted = useMemo(
    () => (onSort && controlled !== undefined ? rows : sortRows(rows, columns, sort)),
    [rows, columns, sort, onSort, controlled],
  );
  const [scrollTop, setScrollTop] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const windowed = sorted.length > 200;
  const first = windowed ? Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN) : 0;
  const last = windowed
    ? Math.min(sorted.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN)
    : sorted.length;
  const toggle = (key: string) => {
    const next: SortState =
      sort?.key === key ? (sort.descending ? null : { key, descending: true }) : { key, descending: false };
    setLocal(next);
    onSort?.(next);
  };
  if (rows.length === 0) return <p className="empty">{empty}</p>;
  return (
    <div
      className="table-box"
      ref={box}
      style={windowed ? { maxHeight: height, overflowY: "auto" } : undefined}
      onScroll={windowed ? (e) => setScrollTop(e.currentTarget.scrollTop) : undefined}
    >
      <table aria-rowcount={sorted.length + 1}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.key}
                scope="col"
                className={c.className}
                aria-sort={sort?.key === c.key ? (sort.descending ? "descending" : "ascending") : undefined}
              >
                {c.sort ? (
                  <button type="button" className="sort" onClick={() => toggle(c.key)}>
                    {c.header}
                    <span aria-hidden="true">{sort?.key === c.key ? (sort.descending ? " ▼" : " ▲") : ""}</span>
                  </button>
                ) : (
                  c.header
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 ? <tr style={{ height: first * ROW_HEIGHT }} aria-hidden="true" /> : null}
          {sorted.slice(first, last).map((row, i) => (
            <tr
              key={rowKey(row)}
              aria-rowindex={first + i + 2}
              className={selected?.(row) ? "selected" : undefined}
              style={windowed ? { height: ROW_HEIGHT } : undefined}
            >
              {columns.map((c) => (
                <td key={c.key} className={c.className}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
          {last < sorted.length ? (
            <tr style={{ height: (sorted.length - last) * ROW_HEIGHT }} aria-hidden="true" />
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
