import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import type { NamedPage, NamedView, NamedViewQuery } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import type { Accepted } from '../commands/command-sender';
import { sendVersion, versionOf } from '../commands/entity-version';
import { checkIdempotencyKey } from '../commands/idempotency-key';
import { cursorAfter, pageOf } from '../pagination.dto';
import type { PageQueryDto } from '../pagination.dto';
import { awaitVisible, notFound, readBack } from '../read-back';

// A resource of the native API kept by a named read model: what it is called in errors, where it
// lives, how it is read, how a row is shown.
export interface NamedResourceSpec<TView extends NamedView, TDto> {
  readonly kind: string; // "context": "context x does not exist"
  readonly field?: string; // the field a 404 names (default: the kind's first word)
  readonly path: string; // "/api/v1/contexts": where a created one is (Location)
  readonly query: NamedViewQuery<TView>;
  // How one is found by the key its routes name (default: by name; clusters and groups: by id).
  readonly find?: (key: string) => Promise<TView | null>;
  readonly toDto: (row: TView) => TDto;
}

// A create's answer: 201 and where the new resource is.
export function answerCreated(reply: FastifyReply, path: string, id: string): void {
  void reply.status(HttpStatus.CREATED).header('location', `${path}/${encodeURIComponent(id)}`);
}

// The list/get/create/update/delete routes every named resource answers alike. A controller keeps
// its routes, DTOs and Swagger text, and delegates each body here; what a command means (defaults,
// merging a change into the current state, references) is decided by the resource's owner.
export class NamedResource<TView extends NamedView, TDto> {
  constructor(
    private readonly spec: NamedResourceSpec<TView, TDto>,
    private readonly commands: CommandSender,
    private readonly readYourWritesTimeoutMs: number,
  ) {}

  // POST: the command (retried safely with the client's Idempotency-Key); 201, Location, its
  // version as an ETag, and the resource as its read model shows it once the command reached it.
  async create(
    pattern: string,
    name: string,
    command: object,
    correlationId: string,
    idempotencyKey: string | undefined,
    reply: FastifyReply,
  ): Promise<TDto> {
    const accepted = await this.commands.send(pattern, command, {
      correlationId,
      idempotencyKey: checkIdempotencyKey(idempotencyKey),
    });
    answerCreated(reply, this.spec.path, name);
    sendVersion(reply, accepted.streamPosition);
    return this.readBack(name, accepted);
  }

  // A create made by a use case of its own (a cluster's credentials, a group's references, an
  // upload): 201, where it is, and the row as this resource shows it.
  created(reply: FastifyReply, key: string, row: TView): TDto {
    answerCreated(reply, this.spec.path, key);
    return this.spec.toDto(row);
  }

  // GET: a keyset page by name; `read` reads it with the list's own filters.
  async list(
    query: PageQueryDto,
    read: (limit: number, after: string | null) => Promise<NamedPage<TView>> = (limit, after) =>
      this.spec.query.list(limit, after),
  ): Promise<{ items: TDto[]; nextCursor: string | null }> {
    return pageOf(await read(query.limit, cursorAfter(query.cursor)), this.spec.toDto);
  }

  // GET one; given the reply, with its version as an ETag (for the resources changed with If-Match).
  async get(key: string, reply?: FastifyReply): Promise<TDto> {
    const row = await this.require(key);
    if (reply) sendVersion(reply, row.streamPosition);
    return this.spec.toDto(row);
  }

  async require(key: string): Promise<TView> {
    const row = await (this.spec.find ?? ((name) => this.spec.query.findByName(name)))(key);
    if (!row) throw notFound(`${this.spec.kind} ${key}`, this.spec.field);
    return row;
  }

  // PUT: the change, based on the version its If-Match names (412 when the resource moved since);
  // without one, on the version the owner holds when it decides (the owner merges what the change
  // leaves out into that version, so no concurrent change is lost).
  async update(
    pattern: string,
    name: string,
    change: object,
    correlationId: string,
    ifMatch: string | undefined,
    reply: FastifyReply,
  ): Promise<TDto> {
    const expectedVersion = versionOf(ifMatch);
    const command = { ...change, name, ...(expectedVersion === undefined ? {} : { expectedVersion }) };
    const accepted = await this.commands.send(pattern, command, { correlationId });
    sendVersion(reply, accepted.streamPosition);
    return this.readBack(name, accepted);
  }

  // DELETE: answered once the read model shows the resource gone; with If-Match, only from that
  // version (412 when the resource moved since).
  async remove(pattern: string, name: string, correlationId: string, ifMatch?: string): Promise<void> {
    const expectedVersion = versionOf(ifMatch);
    const command = { name, ...(expectedVersion === undefined ? {} : { expectedVersion }) };
    await this.applied(name, await this.commands.send(pattern, command, { correlationId }));
  }

  // Returns once the read model applied an accepted command (a 503 that says so if it lags).
  applied(name: string, accepted: Accepted): Promise<void> {
    return awaitVisible(`${this.spec.kind} ${name}`, this.visible(accepted));
  }

  // Read your writes: the resource as the read model shows it once it applied the command.
  readBack(name: string, accepted: Accepted): Promise<TDto> {
    return readBack(`${this.spec.kind} ${name}`, this.visible(accepted), async () => {
      const row = await this.spec.query.findByName(name);
      return row && this.spec.toDto(row);
    });
  }

  private visible(accepted: Accepted): Promise<boolean> {
    return this.spec.query.waitForPosition(
      accepted.streamId,
      accepted.streamPosition,
      this.readYourWritesTimeoutMs,
    );
  }
}

// Makes a controller's NamedResource, with the gateway's command sender and read-your-writes bound.
@Injectable()
export class NamedResources {
  constructor(
    private readonly commands: CommandSender,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  of<TView extends NamedView, TDto>(spec: NamedResourceSpec<TView, TDto>): NamedResource<TView, TDto> {
    return new NamedResource(spec, this.commands, this.config.readYourWritesTimeoutMs);
  }
}
