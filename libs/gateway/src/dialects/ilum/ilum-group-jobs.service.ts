import { Injectable } from '@nestjs/common';
import { CommandPatterns, MAX_GROUP_SCALE, groupContextName } from '@spindle/contracts';
import type { Runtime } from '@spindle/contracts';
import { FunctionsQuery, JobsQuery, WorkersQuery } from '@spindle/read-models';
import type { FunctionView, GroupView, JobView } from '@spindle/read-models';
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

// Ilum documents no bound for `execute`; Spindle answers the instance as it stands after this.
export const GROUP_EXECUTE_WAIT_MS = 10 * 60_000;

// Requests on a group's warm workers. An instance is a core job: its jobClass runs as the function
// `group-<groupId>-<jobClass>` (registered on first use, on the group's uploaded file), submitted
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

  async submit(group: GroupView, request: GroupJobRequest): Promise<JobView> {
    if (group.state !== 'ACTIVE') throw ilumInvalid(`group ${group.name} is stopped: it runs no requests`);
    const wanted = group.kind === 'CODE' ? 'interactive_code_execute' : 'interactive_job_execute';
    if (request.type !== wanted)
      throw ilumInvalid(`type: a ${group.kind} group takes ${wanted}, not ${request.type}`);
    const [fn, args] =
      request.type === 'interactive_code_execute'
        ? [await this.codeSessionOf(group), { code: request.code }]
        : [
            await this.functionFor(group, request.jobClass),
            groupJobArgs(groupProgramOf(group.language, request.jobClass).runtime, request.jobConfig),
          ];
    return this.submission.submit({
      function: fn,
      context: groupContextName(group.id),
      args,
      source: 'http',
    });
  }

  async execute(group: GroupView, request: GroupJobRequest): Promise<JobView> {
    const job = await this.submit(group, request);
    return (await this.submission.waitForEnd(job.id, GROUP_EXECUTE_WAIT_MS)) ?? job;
  }

  // The group's instances, newest first, and how many there are.
  async page(group: GroupView, size: number, offset: number): Promise<{ rows: JobView[]; total: number }> {
    const filter = { context: groupContextName(group.id) };
    const [rows, total] = await Promise.all([
      this.jobs.listAt(filter, size, offset),
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
  private async codeSessionOf(group: GroupView): Promise<string> {
    const name = groupCodeFunction(group.id);
    if (await this.functions.findByName(name)) return name;
    const session = codeSessionProgram(group.language);
    const artifact = groupCodeArtifact(group.id, session.runtime);
    await this.uploads.storeContent(artifact, session.source, 'text/plain');
    await this.register(name, { artifact, entrypoint: 'execute', runtime: session.runtime });
    return name;
  }

  private async functionFor(group: GroupView, jobClass: string): Promise<string> {
    const program = groupProgramOf(group.language, jobClass);
    const name = groupJobFunction(group.id, jobClass);
    if (await this.functions.findByName(name)) return name;
    const artifact =
      program.file === null ? this.jarOf(group) : this.fileOf(group, program.file, program.runtime);
    await this.register(name, { artifact, entrypoint: program.entrypoint, runtime: program.runtime });
    return name;
  }

  private fileOf(group: GroupView, file: string, runtime: Runtime): string {
    const { files, pyFiles } = group.definition;
    const candidates = runtime === 'python' ? [...pyFiles, ...files] : files;
    const artifact = candidates.find((a) => a === groupArtifactName(group.id, file) || a === file);
    if (artifact === undefined)
      throw ilumInvalid(
        `jobClass: the group has no file ${file} (in ${runtime === 'python' ? 'pyFiles or files' : 'files'})`,
      );
    return artifact;
  }

  // A task runs from one program: a SCALA group's requests from its one jar (a job's dependencies
  // go in it, as a fat jar, the way Spark jobs are usually shipped).
  private jarOf(group: GroupView): string {
    const { jars } = group.definition;
    if (jars.length !== 1)
      throw ilumInvalid(
        `jars: a SCALA group runs its requests from exactly one jar (with its dependencies in it); this group has ${jars.length}`,
      );
    return jars[0]!;
  }

  // Keyed by the function's name: two first requests at once register it once.
  private async register(
    name: string,
    program: { readonly artifact: string; readonly entrypoint: string; readonly runtime: Runtime },
  ): Promise<void> {
    const definition = { ...program, defaultContext: 'default', tags: ['ilum-group'] };
    await this.functionResource.applied(
      name,
      await this.commands.send(CommandPatterns.registerFunction, { name, definition }, `register-${name}`),
    );
  }
}
