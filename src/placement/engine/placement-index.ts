/**
 * The placement engines of every cluster, fed with instance and task records as they change. The state layer
 * (src/state/ecs-state.ts) connects it to the catalog's speculative feed, so decisions see the tasks of commits
 * still in flight — which is what keeps pipelined RunTask calls from over-committing an instance — and a failed
 * commit's writes are taken back the same way.
 */
import { ClusterIndex } from './cluster-index.js';
import type { InstanceRecordView, TaskRecordView } from './entry.js';

export class PlacementIndex {
  readonly #clusters = new Map<string, ClusterIndex>();

  /** The engine of one cluster (created empty on first use). */
  cluster(name: string): ClusterIndex {
    let c = this.#clusters.get(name);
    if (!c) this.#clusters.set(name, (c = new ClusterIndex()));
    return c;
  }

  instanceChanged(before: InstanceRecordView | undefined, after: InstanceRecordView | undefined): void {
    const current = after ?? before;
    if (!current) return;
    this.cluster(current.cluster).instanceChanged(current.containerInstanceArn, after);
  }

  taskChanged(before: TaskRecordView | undefined, after: TaskRecordView | undefined): void {
    if (before && after && before.cluster !== after.cluster) {
      this.cluster(before.cluster).taskChanged(before, undefined);
      this.cluster(after.cluster).taskChanged(undefined, after);
      return;
    }
    const cluster = (after ?? before)?.cluster;
    if (cluster !== undefined) this.cluster(cluster).taskChanged(before, after);
  }
}
