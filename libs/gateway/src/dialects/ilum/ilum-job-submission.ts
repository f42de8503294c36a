import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { CommandPatterns, JOB_NAME_MAX, clusterExecutorRefusal } from '@spindle/contracts';
import { SPINDLE_CONFIG, requestCorrelationId } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ArtifactsQuery, ClustersQuery, FunctionsQuery } from '@spindle/read-models';
import type { JobView } from '@spindle/read-models';
import { ArtifactUploads } from '../../artifacts/artifact-uploads.service';
import { CommandSender } from '../../commands/command-sender';
import { JobSubmission } from '../../jobs/job-submission.service';
import { awaitVisible } from '../../read-back';
import { ilumInvalid, ilumNotFound } from './ilum-errors.filter';
import { ILUM_LANGUAGES, MAX_JOB_CONFIG_PAIRS, ilumProgram, parseArgs } from './ilum-job-format';
import { withIlumForm } from './ilum-form';
import type { IlumFormSpec } from './ilum-form';
import { pairsParam } from './ilum-query';
import type { IlumLanguage } from './ilum-job-format';

const TEXT_FIELDS = [
  'name',
  'clusterName',
  'tags',
  'language',
  'jobClass',
  'jobConfig',
  'pyRequirements',
  'args',
];
const MAX_FILES = 20;

// Ilum's `POST /job/submit` on the core: every file sent becomes an artifact of its own
// (`ilum-<tag>-<file name>`, so two jobs' `job.py` never overwrite each other), the program (the
// file jobClass names) becomes a function (`ilum-<tag>`), and the job is submitted on it with its
// labels (name, cluster, tags) and `{args, config}` as arguments. A refused request keeps nothing.
@Injectable()
export class IlumJobSubmission {
  private readonly logger = new Logger('ilum');

  constructor(
    private readonly uploads: ArtifactUploads,
    private readonly commands: CommandSender,
    private readonly functions: FunctionsQuery,
    private readonly clusters: ClustersQuery,
    private readonly artifacts: ArtifactsQuery,
    private readonly submission: JobSubmission,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  async submit(request: FastifyRequest, reply: FastifyReply): Promise<JobView> {
    const tag = randomBytes(6).toString('hex');
    const correlationId = requestCorrelationId(request);
    const spec: IlumFormSpec = {
      form: 'jobCreation',
      textFields: TEXT_FIELDS,
      maxFiles: MAX_FILES,
      maxFields: 20,
      maxFieldBytes: 64 * 1024,
      maxFileBytes: this.config.artifacts.maxBytes,
      artifactName: (fileName) => `ilum-${tag}-${fileName}`,
      onRefused: (artifacts) => this.forget(tag, artifacts, correlationId),
    };
    return withIlumForm(request, reply, this.uploads, spec, (form) =>
      // file name as sent → artifact
      this.submitJob(
        tag,
        form.fields,
        new Map(form.files.map((f) => [f.fileName, f.artifact])),
        correlationId,
      ),
    );
  }

  private async submitJob(
    tag: string,
    fields: Readonly<Record<string, string>>,
    stored: ReadonlyMap<string, string>,
    correlationId: string,
  ): Promise<JobView> {
    const name = fields['name'];
    if (name === undefined || name === '' || name.length > JOB_NAME_MAX)
      throw ilumInvalid(`name is required (1 to ${JOB_NAME_MAX} characters)`);
    const language = (fields['language'] || 'SCALA').toUpperCase() as IlumLanguage;
    if (!ILUM_LANGUAGES.includes(language))
      throw ilumInvalid(`language must be one of ${ILUM_LANGUAGES.join(', ')}`);
    const tags = pairsParam('tags', fields['tags']);
    const config = pairsParam('jobConfig', fields['jobConfig'], MAX_JOB_CONFIG_PAIRS);
    if (fields['pyRequirements']) {
      throw ilumInvalid(
        "pyRequirements is not supported: Spindle installs no Python packages for a job (it runs in the worker host's Python); ship pure-Python modules in pyFiles instead",
      );
    }
    const program = ilumProgram(language, fields['jobClass'], [...stored.keys()]);
    if (!program.ok) throw ilumInvalid(program.message);
    const clusterName = fields['clusterName'] || 'default';
    const cluster = await this.clusters.findByName(clusterName);
    if (!cluster) throw ilumNotFound(`Cluster ${clusterName} not found`);
    const refusal = clusterExecutorRefusal(cluster.name, cluster.type);
    if (refusal !== null) throw ilumInvalid(refusal);

    const fn = `ilum-${tag}`;
    const registration = {
      name: fn,
      definition: {
        artifact: stored.get(program.value.file)!,
        // The other files beside it, under the names they were sent with.
        ...(program.value.libraries.length > 0
          ? {
              libraries: program.value.libraries.map((fileName) => ({
                artifact: stored.get(fileName)!,
                fileName,
              })),
            }
          : {}),
        entrypoint: program.value.entrypoint,
        runtime: program.value.runtime,
        defaultContext: 'default',
        tags: ['ilum'],
      },
    };
    await this.changeFunction(CommandPatterns.registerFunction, registration, correlationId);
    return this.submission.submit({
      function: fn,
      args: { args: parseArgs(fields['args']), config },
      correlationId,
      source: 'http',
      name,
      cluster: cluster.name,
      tags,
    });
  }

  // The job is submitted on the function, and an artifact is removed only once no function uses
  // it, both checked in the read model: answer once it shows the change.
  private async changeFunction(
    pattern: string,
    body: { readonly name: string; readonly [field: string]: unknown },
    correlationId: string,
  ): Promise<void> {
    const accepted = await this.commands.send(pattern, body, { correlationId });
    await awaitVisible(
      `function ${body.name}`,
      this.functions.waitForPosition(
        accepted.streamId,
        accepted.streamPosition,
        this.config.readYourWritesTimeoutMs,
      ),
    );
  }

  // What a submit made for its job (function `ilum-<tag>`, artifacts `ilum-<tag>-*`), removed when
  // the submit is refused or the job deleted. The job's own record keeps its program's hash.
  async removeProgram(fn: string, correlationId: string): Promise<void> {
    const tag = /^ilum-([0-9a-f]{12})$/.exec(fn)?.[1];
    if (tag === undefined) return; // not made by an Ilum submit
    await this.forget(tag, [], correlationId);
  }

  private async forget(tag: string, stored: readonly string[], correlationId: string): Promise<void> {
    const fn = `ilum-${tag}`;
    try {
      if (await this.functions.findByName(fn))
        await this.changeFunction(CommandPatterns.deleteFunction, { name: fn }, correlationId);
      const artifacts = new Set(stored);
      const page = await this.artifacts.list(MAX_FILES, null, (q) =>
        q.andWhere('v.name like :prefix', { prefix: `ilum-${tag}-%` }),
      );
      for (const a of page.items) artifacts.add(a.name);
      for (const artifact of artifacts) await this.uploads.remove(artifact, correlationId);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.logger.warn(`could not remove the program of Ilum submit ${tag}: ${reason}`);
    }
  }
}
