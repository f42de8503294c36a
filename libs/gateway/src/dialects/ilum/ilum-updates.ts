import { Injectable, applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiQuery } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JobTags } from '@spindle/contracts';
import { StreamSlots } from '../../auth/stream-slots';
import { FeedHub } from '../../events/feed-hub';
import { resumePoint, streamFeed } from '../../events/sse-stream';
import type { FeedRender } from '../../events/sse-stream';
import { listParam, pairsParam } from './ilum-query';
import { single } from './spring-page';

// The filters of Ilum's two streams (`/job/updates`, `/group/job/result/updates`); `groupNames` is
// the result stream's only.
export interface IlumUpdatesFilter {
  readonly jobIds?: readonly string[];
  readonly groupIds?: readonly string[];
  readonly groupNames?: readonly string[];
  readonly clusterNames?: readonly string[];
  readonly tags: JobTags; // every one must match
}

export type IlumUpdatesQuery = Readonly<Record<string, string | string[] | undefined>>;

// A stream request: its filters (409 for malformed tags) and where it resumes (`Last-Event-ID` or
// `?lastEventId=`).
export function ilumUpdatesRequest(
  query: IlumUpdatesQuery,
  lastEventId: string | undefined,
): { readonly filter: IlumUpdatesFilter; readonly after: string | null } {
  const tags = pairsParam('tags', single('tags', query['tags']));
  const filter = {
    jobIds: listParam(query, 'jobIds'),
    groupIds: listParam(query, 'groupIds'),
    groupNames: listParam(query, 'groupNames'),
    clusterNames: listParam(query, 'clusterNames'),
    tags,
  };
  return { filter, after: resumePoint(lastEventId, single('lastEventId', query['lastEventId'])) };
}

// Serves one of Ilum's streams: the request's filters and resume point, a stream slot held while
// the client listens, and the feed from there as `render` shows it with those filters.
@Injectable()
export class IlumUpdateStreams {
  constructor(
    private readonly hub: FeedHub,
    private readonly slots: StreamSlots,
  ) {}

  async serve(
    query: IlumUpdatesQuery,
    lastEventId: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    render: (filter: IlumUpdatesFilter) => FeedRender,
  ): Promise<void> {
    const { filter, after } = ilumUpdatesRequest(query, lastEventId);
    this.slots.hold(request);
    await streamFeed(this.hub, request, reply, after, render(filter));
  }
}

// The OpenAPI description of a stream with these filters.
export function ApiIlumUpdates(
  what: string,
  description: string,
  filters: readonly (keyof IlumUpdatesFilter)[],
): MethodDecorator {
  return applyDecorators(
    ApiOperation({
      summary: `Returns a stream of ${what} (Server-Sent Events)`,
      description:
        `${description} Each change is one event: \`id\` (resume with Last-Event-ID), \`event\` (the ` +
        'change, e.g. JobStarted) and `data`. A comment line every 15 s keeps idle connections open.',
    }),
    ...filters.map((name) =>
      name === 'tags'
        ? ApiQuery({ name, required: false, description: 'key1=value1;key2=value2, all must match' })
        : ApiQuery({ name, required: false, isArray: true, type: String }),
    ),
    ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' }),
    ApiOkResponse({ description: 'An endless event stream', content: { 'text/event-stream': {} } }),
  );
}
