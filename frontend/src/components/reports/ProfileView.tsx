// A data profile: table-level facts, then one row of statistics per column.
import { formatNumber, formatPercent } from "../../lib/format";
import { formatFigure, type ColumnProfile, type ProfileResult } from "../../lib/reports";
import { Table } from "../Table";
import { Facts } from "../ui";

export function ProfileView({ result }: { result: ProfileResult }) {
  return (
    <div className="report-body">
      <Facts
        items={[
          ["Rows", formatNumber(result.rows)],
          ["Columns", formatNumber(result.columns.length)],
          ["Duplicated rows", formatNumber(result.duplicated_rows)],
          ["Constant columns", result.constant_columns.join(", ") || "none"],
          ["Empty columns", result.empty_columns.join(", ") || "none"],
        ]}
      />
      <div data-testid="profile-table">
        <Table<ColumnProfile>
          caption="Column profile"
          rows={result.columns}
          rowKey={(c) => c.name}
          columns={[
            { key: "name", header: "Column", cell: (c) => <strong>{c.name}</strong>, sort: (c) => c.name },
            { key: "type", header: "Type", cell: (c) => <code>{c.data_type}</code>, sort: (c) => c.data_type },
            { key: "kind", header: "Kind", cell: (c) => c.kind, sort: (c) => c.kind },
            {
              key: "missing",
              header: "Missing",
              className: "num",
              cell: (c) => `${formatNumber(c.missing)} (${formatPercent(c.missing_share)})`,
              sort: (c) => c.missing,
            },
            { key: "distinct", header: "Distinct", className: "num", cell: (c) => formatNumber(c.distinct), sort: (c) => c.distinct },
            { key: "min", header: "Min", className: "num", cell: (c) => c.min ?? "—" },
            { key: "max", header: "Max", className: "num", cell: (c) => c.max ?? "—" },
            { key: "mean", header: "Mean", className: "num", cell: (c) => formatFigure(c.mean), sort: (c) => c.mean },
            { key: "std", header: "Std", className: "num", cell: (c) => formatFigure(c.std), sort: (c) => c.std },
            { key: "p25", header: "25%", className: "num", cell: (c) => formatFigure(c.quartiles?.[0]) },
            { key: "p50", header: "Median", className: "num", cell: (c) => formatFigure(c.quartiles?.[1]) },
            { key: "p75", header: "75%", className: "num", cell: (c) => formatFigure(c.quartiles?.[2]) },
            {
              key: "top",
              header: "Top values",
              cell: (c) =>
                c.top.length ? (
                  <span title={c.top.map(([v, n]) => `${v}: ${n}`).join("\n")}>
                    {c.top
                      .slice(0, 4)
                      .map(([v, n]) => `${v} (${formatNumber(n)})`)
                      .join(", ")}
                    {c.top.length > 4 ? ", …" : ""}
                  </span>
                ) : (
                  "—"
                ),
            },
          ]}
        />
      </div>
    </div>
  );
}
