import { Injectable } from '@nestjs/common';
import {
  CommandPatterns,
  FUNCTION_LIBRARIES_MAX,
  MAX_GROUP_SCALE,
  groupContextName,
} from '@spindle/contracts';
import type { FunctionLibrary, Runtime } from '@spindle/contracts';
import { FunctionsQuery, JobsQuery, WorkersQuery } from '@spindle/read-models';
import type { FunctionView, GroupView, JobSortColumn, JobView } from '@spindle/read-models';
import { ArtifactUploads } from '../../artifacts/artifact-uploads.service';
import { CommandSender } from '../../commands/command-sender';
import { groupArtifactName } from '../../groups/group-definitions.service';
import { JobSubmission } from '../../jobs/job-submission.service';
import { functionRows } from '../../functions/function-rows';
import { NamedResources } from '../../resources/named-resource';
import type { NamedResource } from '../../resources/named-resource';
import { ilumInvalid } from './ilum-errors.filter';
import {
  groupCodeArtifact,
  groupCodeFunction,
  groupJobArgs,
  groupJobFunction,
  groupProgramOf,
} from './ilum-group-job-format';
import { interactiveJobInfo } from './ilum-job-format';
import type { IlumJobInfo } from './ilum-job-format';
import { codeSessionProgram } from './ilum-code-session';
import type { GroupJobRequest } from './ilum-group-job-format';
import type { SpringPageRequest } from './spring-page';

// The fields a group's instances sort by (then newest first), as groupJobInstanceInfo names them.
export const GROUP_INSTANCE_SORT_FIELDS = ['startTime', 'endTime', 'jobClass', 'jobInstanceId'] as const;
export type GroupInstanceSortField = (typeof GROUP_INSTANCE_SORT_FIELDS)[number];
const INSTANCE_SORT_COLUMNS: Record<GroupInstanceSortField, JobSortColumn> = {
  startTime: 'started_at',
  endTime: 'finished_at',
  jobClass: 'function', // group-<groupId>-<jobClass>: the same order within one group
  jobInstanceId: 'id',
};

// A function's program and the artifacts beside it.
interface GroupArtifacts {
  readonly artifact: string;
  readonly libraries: readonly FunctionLibrary[];
}

// Ilum documents no bound for `execute`; Spindle answers the instance as it stands after this.
export const GROUP_EXECUTE_WAIT_MS = 10 * 60_000;

// Requests on a group's warm workers. An instance is a core job: its jobClass runs as the function
// `group-<groupId>-<jobClass>` (registered on first use, on the group's uploaded file, with the
// group's other files or jars as its libraries), submitted
// to the group's pool (context `group:<id>`), where the dispatcher gives each worker one request
// at a time and queues the rest. So an instance has a state, a log and events like any job.
@Injectable()
export class IlumGroupJobs {
  private readonly functionResource: NamedResource<FunctionView, FunctionView>;

  constructor(
    private readonly commands: CommandSender,
    private readonly functions: FunctionsQuery,
    private readonly jobs: JobsQuery,
    private readonly workers: WorkersQuery,
    private readonly submission: JobSubmission,
    private readonly uploads: ArtifactUploads,
    resources: NamedResources,
  ) {
    this.functionResource = functionRows(resources, functions);
  }

  async submit(group: GroupView, request: GroupJobRequest, correlationId: string): Promise<JobView> {
    if (group.state !== 'ACTIVE') throw ilumInvalid(`group ${group.name} is stopped: it runs no requests`);
    const [fn, args] = await this.programOf(group, request, correlationId);
    return this.submission.submit({
      function: fn,
      context: groupContextName(group.id),
      args,
      correlationId,
      source: 'http',
    });
  }

  // The function a request runs as and its arguments. The session program takes {code} to run
  // it and {code, cursor} to complete it.
  private async programOf(
    group: GroupView,
    request: GroupJobRequest,
    correlationId: string,
  ): Promise<[string, Record<string, unknown>]> {
    const isCode = request.type !== 'interactive_job_execute';
    if (isCode !== (group.kind === 'CODE'))
      throw ilumInvalid(
        `type: a ${group.kind} group takes ${isCode ? 'interactive_job_execute' : 'interactive_code_execute or interactive_code_complete'}, not ${request.type}`,
      );
    switch (request.type) {
      case 'interactive_code_execute':
        return [await this.codeSessionOf(group, correlationId), { code: request.code }];
      case 'interactive_code_complete': {
        const args = { code: request.code, cursor: request.cursor };
        return [await this.codeSessionOf(group, correlationId), args];
      }
      case 'interactive_job_execute': {
        const { runtime } = groupProgramOf(group.language, request.jobClass);
        const fn = await this.functionFor(group, request.jobClass, correlationId);
        return [fn, groupJobArgs(runtime, request.jobConfig)];
      }
      default: {
        const unknownType: never = request;
        throw ilumInvalid(`type ${String(unknownType)} is not a request`);
      }
    }
  }

  async execute(group: GroupView, request: GroupJobRequest, correlationId: string): Promise<JobView> {
    const job = await this.submit(group, request, correlationId);
    return (await this.submission.waitForEnd(job.id, GROUP_EXECUTE_WAIT_MS)) ?? job;
  }

  // The group's instances, newest first, and how many there are.
  // A page of the group's instances: `search` is part of an instance's id or jobClass (any case).
  async page(
    group: GroupView,
    request: SpringPageRequest<GroupInstanceSortField>,
  ): Promise<{ rows: JobView[]; total: number }> {
    const filter = {
      context: groupContextName(group.id),
      ...(request.search === undefined ? {} : { search: request.search }),
    };
    const order = request.sort.map((s) => ({
      column: INSTANCE_SORT_COLUMNS[s.field],
      ascending: s.ascending,
    }));
    const [rows, total] = await Promise.all([
      this.jobs.listAt(filter, request.size, request.page * request.size, order),
      this.jobs.count(filter),
    ]);
    return { rows, total };
  }

  // The group's live workers (a rescale down may leave a few more until they are idle).
  async workersOf(group: GroupView): Promise<IlumJobInfo[]> {
    const { items } = await this.workers.list(2 * MAX_GROUP_SCALE, null, {
      states: ['starting', 'running'],
      context: groupContextName(group.id),
    });
    const busy = await this.jobs.countActiveOn(items.map((w) => w.id));
    return items
      .reverse()
      .map((w) =>
        interactiveJobInfo(
          group,
          w,
          w.state === 'starting' ? 'starting' : (busy.get(w.id) ?? 0) > 0 ? 'busy' : 'idle',
        ),
      );
  }

  // A CODE group's session program, uploaded and registered on the group's first request.
  private async codeSessionOf(group: GroupView, correlationId: string): Promise<string> {
    const name = groupCodeFunction(group.id);
    if (await this.functions.findByName(name)) return name;
    const session = codeSessionProgram(group.language);
    const artifact = groupCodeArtifact(group.id, session.extension);
    await this.uploads.storeContent(
      artifact,
      session.source,
      session.extension === 'jar' ? 'application/java-archive' : 'text/plain',
      correlationId,
    );
    // A SCALA session's interpreter has all of the group's jars on its class path; a PYTHON or
    // NODE session has the group's files beside it (python: pyFiles and files on sys.path, `import
    // helpers`; node: files, `require('./helpers.js')`), as a JOB group's requests have.
    const { jars, files, pyFiles } = group.definition;
    const libraries =
      session.runtime === 'jvm-runner'
        ? this.librariesOf(group, jars, artifact, 'jars')
        : session.runtime === 'python'
          ? this.librariesOf(group, [...new Set([...pyFiles, ...files])], artifact, 'pyFiles')
          : this.librariesOf(group, files, artifact, 'files');
    const { runtime, entrypoint } = session;
    await this.register(name, { artifact, entrypoint, runtime, libraries }, correlationId);
    return name;
  }

  private async functionFor(group: GroupView, jobClass: string, correlationId: string): Promise<string> {
    const program = groupProgramOf(group.language, jobClass);
    const name = groupJobFunction(group.id, jobClass);
    if (await this.functions.findByName(name)) return name;
    const artifacts =
      program.file === null ? this.jarsOf(group) : this.filesOf(group, program.file, program.runtime);
    const { entrypoint, runtime } = program;
    await this.register(name, { ...artifacts, entrypoint, runtime }, correlationId);
    return name;
  }

  // The module's file is the program; every other file of the group lies beside it under its
  // uploaded name (python: on sys.path, `import helpers`; node: `require('./helpers.js')`), as
  // Ilum puts a group's pyFiles and files on the Python path.
  private filesOf(group: GroupView, file: string, runtime: Runtime): GroupArtifacts {
    const { files, pyFiles } = group.definition;
    const candidates = [...new Set(runtime === 'python' ? [...pyFiles, ...files] : files)];
    const artifact = candidates.find((a) => a === groupArtifactName(group.id, file) || a === file);
    if (artifact === undefined)
      throw ilumInvalid(
        `jobClass: the group has no file ${file} (in ${runtime === 'python' ? 'pyFiles or files' : 'files'})`,
      );
    return {
      artifact,
      libraries: this.librariesOf(group, candidates, artifact, runtime === 'python' ? 'pyFiles' : 'files'),
    };
  }

  // All of a SCALA group's jars are on the class path of its requests (one class loader): the
  // first is the program, the others its libraries, and the jobClass may be in any of them.
  private jarsOf(group: GroupView): GroupArtifacts {
    const [artifact, ...rest] = group.definition.jars;
    if (artifact === undefined)
      throw ilumInvalid('jars: a SCALA group runs its requests from its jars; this group has none');
    return { artifact, libraries: this.librariesOf(group, rest, artifact, 'jars') };
  }

  // Each under the name it was uploaded with (`group-<id>-helpers.py` is `helpers.py` beside the
  // program); an artifact a native group names directly keeps its own name.
  private librariesOf(
    group: GroupView,
    artifacts: readonly string[],
    main: string,
    field: string,
  ): { artifact: string; fileName: string }[] {
    const prefix = groupArtifactName(group.id, '');
    const libraries = artifacts.filter((a) => a !== main);
    if (libraries.length > FUNCTION_LIBRARIES_MAX)
      throw ilumInvalid(
        `${field}: a request runs with at most ${FUNCTION_LIBRARIES_MAX + 1} of the group's files on its path; this group has ${libraries.length + 1}`,
      );
    return libraries.map((a) => ({
      artifact: a,
      fileName: a.startsWith(prefix) ? a.slice(prefix.length) : a,
    }));
  }

  // Keyed by the function's name: two first requests at once register it once.
  private async register(
    name: string,
    program: {
      readonly artifact: string;
      readonly entrypoint: string;
      readonly runtime: Runtime;
      readonly libraries?: readonly FunctionLibrary[];
    },
    correlationId: string,
  ): Promise<void> {
    const { libraries = [], ...rest } = program;
    const definition = {
      ...rest,
      ...(libraries.length > 0 ? { libraries } : {}),
      defaultContext: 'default',
      tags: ['ilum-group'],
    };
    const issued = { correlationId, idempotencyKey: `register-${name}` };
    const accepted = await this.commands.send(CommandPatterns.registerFunction, { name, definition }, issued);
    await this.functionResource.applied(name, accepted);
  }
}
