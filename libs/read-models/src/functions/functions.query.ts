import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_INSTALLATION_SETTINGS,
  GROUP_CONTEXT_PREFIX,
  SETTINGS_STREAM_ID,
  installationSettingsSchema,
} from '@spindle/contracts';
import type { InstallationSettings, JobLibrary } from '@spindle/contracts';
import { GroupCommit } from '@spindle/backbone';
import { NamedViewQuery } from '../named-view.query';
import type { NamedPage } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { ArtifactView } from '../artifacts/artifact.view';
import { ContextView } from '../contexts/context.view';
import { GroupView } from '../groups/group.view';
import { SettingsView } from '../settings/settings.view';
import { FunctionView } from './function.view';

// What a submit needs to know of a function, in one read: the context the job would run in and
// whether it exists, the artifact behind the function with its content hash, and the settings in
// force (the jobs' default timeouts).
export interface SubmitTarget {
  readonly function: string;
  readonly context: string;
  readonly contextExists: boolean;
  readonly artifact: string;
  readonly artifactSha256: string | null; // null: the artifact is gone
  // The function's libraries in its order, each with its content hash (null: gone).
  readonly libraries: readonly SubmitTargetLibrary[];
  readonly settings: InstallationSettings;
}

interface TargetKey {
  readonly name: string;
  readonly context: string | null;
}

export interface SubmitTargetLibrary {
  readonly artifact: string;
  readonly fileName: string;
  readonly sha256: string | null;
}

// A target's artifacts with their content hashes, each one there; or the first that is gone (its
// program's, then its libraries'): a job runs only with every one of them.
export type TargetArtifacts =
  | { readonly artifact: string; readonly sha256: string; readonly libraries: readonly JobLibrary[] }
  | { readonly missing: string };

export function targetArtifactsOf(target: SubmitTarget): TargetArtifacts {
  if (target.artifactSha256 === null) return { missing: target.artifact };
  const libraries: JobLibrary[] = [];
  for (const { artifact, fileName, sha256 } of target.libraries) {
    if (sha256 === null) return { missing: artifact };
    libraries.push({ artifact, fileName, sha256 });
  }
  return { artifact: target.artifact, sha256: target.artifactSha256, libraries };
}

@Injectable()
export class FunctionsQuery extends NamedViewQuery<FunctionView> {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) dataSource: DataSource) {
    super(dataSource, FunctionView);
  }

  // Every submit looks up its function: under load the lookups of many submits share one query
  // (while one runs, the next gathers; a lone lookup goes at once), a statement per batch rather
  // than per submit. Each caller passed its own read barrier before asking, so the query, run
  // after, sees what every one of them needs.
  private readonly targets = new GroupCommit<TargetKey, SubmitTarget | null>(
    async (keys) => (await this.findSubmitTargets(keys)).map((value) => ({ status: 'fulfilled', value })),
    { maxInFlight: 2 },
  );

  findSubmitTarget(name: string, context: string | undefined): Promise<SubmitTarget | null> {
    return this.targets.add({ name, context: context ?? null });
  }

  // The targets of several lookups in one statement, in the order asked (null: no such function).
  private async findSubmitTargets(keys: readonly TargetKey[]): Promise<(SubmitTarget | null)[]> {
    const table = (view: Function) => this.dataSource.getMetadata(view).tablePath;
    const rows: {
      ord: number;
      name: string;
      context: string;
      context_exists: boolean;
      artifact: string;
      sha256: string | null;
      libraries: SubmitTargetLibrary[];
      settings: unknown;
    }[] = await this.dataSource.query(
      `select k.ord::int as ord, f.name, coalesce(k.context, f.default_context) as context, f.artifact, a.sha256,
              (select coalesce(jsonb_agg(jsonb_build_object('artifact', l.value->>'artifact',
                                                            'fileName', l.value->>'fileName',
                                                            'sha256', la.sha256)
                                         order by l.position), '[]'::jsonb)
               from jsonb_array_elements(f.libraries) with ordinality as l(value, position)
               left join ${table(ArtifactView)} la on la.name = l.value->>'artifact' and la.deleted_at is null)
                as libraries,
              (select s.settings from ${table(SettingsView)} s where s.stream_id = $4) as settings,
              (exists (select 1 from ${table(ContextView)} c
                       where c.name = coalesce(k.context, f.default_context) and c.deleted_at is null)
               -- an active group's pool (groupContextName) takes its requests like a context
               or exists (select 1 from ${table(GroupView)} g
                          where $3 || g.id = k.context and g.state = 'ACTIVE' and g.deleted_at is null))
                as context_exists
       from unnest($1::text[], $2::text[]) with ordinality as k(name, context, ord)
       join ${table(FunctionView)} f on f.name = k.name and f.deleted_at is null
       left join ${table(ArtifactView)} a on a.name = f.artifact and a.deleted_at is null`,
      [keys.map((k) => k.name), keys.map((k) => k.context), GROUP_CONTEXT_PREFIX, SETTINGS_STREAM_ID],
    );
    const found = new Map(rows.map((row) => [row.ord, row]));
    return keys.map((_, i) => {
      const row = found.get(i + 1);
      if (!row) return null;
      return {
        function: row.name,
        context: row.context,
        contextExists: row.context_exists,
        artifact: row.artifact,
        artifactSha256: row.sha256,
        libraries: row.libraries,
        // Parsed, so a row written before a later setting existed reads with that setting's default.
        settings: row.settings
          ? installationSettingsSchema.parse(row.settings)
          : DEFAULT_INSTALLATION_SETTINGS,
      };
    });
  }

  // Names of live functions that run the given artifact, as their program or one of its libraries.
  async usingArtifact(artifact: string, limit = 10): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(FunctionView)
      .createQueryBuilder('f')
      .select('f.name', 'name')
      .where('(f.artifact = :artifact or f.libraries @> :library::jsonb) and f.deleted_at is null', {
        artifact,
        library: JSON.stringify([{ artifact }]),
      })
      .orderBy('f.name')
      .limit(limit)
      .getRawMany<{ name: string }>();
    return rows.map((r) => r.name);
  }

  // Optionally only functions carrying a tag.
  listTagged(limit: number, after: string | null, tag?: string): Promise<NamedPage<FunctionView>> {
    return this.list(limit, after, (query) => {
      if (tag !== undefined) query.andWhere('v.tags @> :tag::jsonb', { tag: JSON.stringify([tag]) });
    });
  }
}
