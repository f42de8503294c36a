import { Injectable } from '@nestjs/common';
import { GROUP_CONTEXT_PREFIX } from '@spindle/contracts';
import { GroupsQuery, JobsQuery } from '@spindle/read-models';
import type { GroupView } from '@spindle/read-models';
import type { FeedRender } from '../../events/sse-stream';
import type { IlumUpdatesFilter } from './ilum-updates';
import { groupJobInstanceOf } from './ilum-group-job-format';
import { jobAt, jobRowsOfFeed } from './ilum-job-updates';

const REMEMBERED = 10_000;

// Ilum's `/group/job/result/updates`: each change of a request on a group (an instance: a job of
// the group's pool, context `group:<id>`) as the whole groupJobInstanceInfo as of that change. The
// name, cluster and tags filters are the group's; a group's are fixed, so a stream remembers them.
@Injectable()
export class IlumGroupJobUpdates {
  constructor(
    private readonly jobs: JobsQuery,
    private readonly groups: GroupsQuery,
  ) {}

  renderer(filter: IlumUpdatesFilter): FeedRender {
    const rowOf = jobRowsOfFeed(this.jobs);
    const groupOf = this.groupsOfFeed();
    const byGroup =
      filter.groupNames !== undefined ||
      filter.clusterNames !== undefined ||
      Object.keys(filter.tags).length > 0;
    return async (entry) => {
      if (entry.kind !== 'job' || !entry.context.startsWith(GROUP_CONTEXT_PREFIX)) return null;
      const groupId = entry.context.slice(GROUP_CONTEXT_PREFIX.length);
      if (filter.groupIds !== undefined && !filter.groupIds.includes(groupId)) return null;
      if (
        filter.jobIds !== undefined &&
        !filter.jobIds.includes(entry.subjectId) &&
        !(entry.workerId !== null && filter.jobIds.includes(entry.workerId))
      )
        return null;
      if (byGroup) {
        const group = await groupOf(groupId);
        if (group === null || !wanted(group, filter)) return null;
      }
      const row = await rowOf(entry);
      if (row === null) return null;
      return { id: entry.seq, event: entry.type, data: groupJobInstanceOf(groupId, jobAt(row, entry)) };
    };
  }

  // A group deleted since is no longer read: its instances match no group filter.
  private groupsOfFeed(): (id: string) => Promise<GroupView | null> {
    const groups = new Map<string, GroupView | null>();
    return async (id) => {
      let group = groups.get(id);
      if (group === undefined) {
        if (groups.size >= REMEMBERED) groups.clear();
        group = await this.groups.findById(id);
        groups.set(id, group);
      }
      return group;
    };
  }
}

function wanted(group: GroupView, filter: IlumUpdatesFilter): boolean {
  if (filter.groupNames !== undefined && !filter.groupNames.includes(group.name)) return false;
  if (filter.clusterNames !== undefined && !filter.clusterNames.includes(group.clusterName)) return false;
  return Object.entries(filter.tags).every(([k, v]) => group.tags[k] === v);
}
