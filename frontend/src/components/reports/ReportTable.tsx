// Reports as a sortable table, each linking to its page (version and monitor pages).
import type { ReportResponse } from "../../api/schema.gen";
import { formatTime } from "../../lib/format";
import { Link, to } from "../../lib/router";
import { Table } from "../Table";
import { Status } from "../ui";

/** Reports as a table linking to each (also used by the monitor page). */
export function ReportTable({ project, reports }: { project: string; reports: ReportResponse[] }) {
  return (
    <Table<ReportResponse>
      caption="Reports"
      rows={reports}
      rowKey={(r) => String(r.id)}
      height={400}
      columns={[
        { key: "id", header: "Report", cell: (r) => <Link to={to("projects", project, "reports", r.id)}>#{r.id}</Link>, sort: (r) => r.id },
        { key: "kind", header: "Kind", cell: (r) => r.kind, sort: (r) => r.kind },
        { key: "status", header: "Status", cell: (r) => <Status value={r.status} />, sort: (r) => r.status },
        {
          key: "version",
          header: "Version",
          cell: (r) => <Link to={to("projects", project, "datasets", r.dataset, "versions", r.version)}>{r.dataset} v{r.version}</Link>,
          sort: (r) => r.version,
        },
        { key: "summary", header: "Summary", cell: (r) => <span title={r.summary}>{r.summary}</span> },
        { key: "trigger", header: "Trigger", cell: (r) => r.trigger, sort: (r) => r.trigger },
        { key: "by", header: "By", cell: (r) => r.created_by, sort: (r) => r.created_by },
        { key: "created", header: "Created", cell: (r) => formatTime(r.created_at), sort: (r) => r.created_at },
      ]}
    />
  );
}
