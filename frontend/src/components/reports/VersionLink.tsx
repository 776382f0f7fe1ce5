// A dataset version named by its global id (drift references, derived-from, evaluation
// outputs, monitor jobs), resolved once per id with GET /dataset-versions/{id}.
import { get, path } from "../../api/client";
import type { DatasetVersionResponse } from "../../api/schema.gen";
import { useLoad } from "../../lib/hooks";
import { Link, to } from "../../lib/router";

const cache = new Map<number, Promise<DatasetVersionResponse>>();

/** The version with global id `id` (cached; a failed read is tried again next time). */
function versionById(id: number): Promise<DatasetVersionResponse> {
  let pending = cache.get(id);
  if (!pending) {
    pending = get<DatasetVersionResponse>(path`/dataset-versions/${id}`);
    cache.set(id, pending);
    pending.catch(() => cache.delete(id));
  }
  return pending;
}

/** A link `customers v1` to the version page, or the id with the server's reason it can't be read. */
export function VersionLink({ id }: { id: number | null | undefined }) {
  const loaded = useLoad(() => (id == null ? Promise.resolve(undefined) : versionById(id)), [id]);
  if (id == null) return <>—</>;
  const v = loaded.data;
  if (v) {
    return (
      <Link to={to("projects", v.project, "datasets", v.dataset, "versions", v.version)}>
        {v.dataset} v{v.version}
      </Link>
    );
  }
  if (loaded.error) {
    return (
      <span className="muted" title={loaded.error.message}>
        version #{id} ({loaded.error.message})
      </span>
    );
  }
  return <span className="muted">#{id}</span>;
}
