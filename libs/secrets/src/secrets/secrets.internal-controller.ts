import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import {
  secretIdViolation,
  SECRET_KEY_PATTERN,
  SECRET_PRINCIPAL_HEADER,
  SECRET_SOURCE_HEADER,
  resolveSecretsBodySchema,
  writeSecretBodySchema,
} from '@spindle/contracts';
import type {
  ResolvedSecrets,
  SecretActor,
  SecretPage,
  SecretSummary,
  SecretWithValues,
} from '@spindle/contracts';
import {
  InternalRoute,
  ProblemException,
  ValidationProblem,
  httpStatusOf,
  requestCorrelationId,
} from '@spindle/platform';
import type { FieldViolation } from '@spindle/platform';
import { KeyRotation } from '../rotation/key-rotation';
import type { RotationStatus } from '../rotation/key-rotation';
import { SecretVault } from './secret-vault';
import type { Refused } from './secret-vault';

// The secrets service's own HTTP surface, for the gateway and worker agents only: plaintext goes
// out here and nowhere else. Errors name ids, keys and fields, never a value.
@ApiExcludeController()
@InternalRoute()
@Controller('internal/v1/secrets')
export class SecretsInternalController {
  constructor(
    private readonly vault: SecretVault,
    private readonly rotation: KeyRotation,
  ) {}

  @Get()
  list(
    @Query('limit') limit: string | undefined,
    @Query('after') after: string | undefined,
  ): Promise<SecretPage> {
    const n = Number(limit ?? 25);
    if (!Number.isInteger(n) || n < 1 || n > 500)
      throw new ValidationProblem([{ field: 'limit', rule: 'range', message: 'limit must be 1 to 500' }]);
    return this.vault.list(n, after ?? null);
  }

  @Put(':id')
  async write(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SecretSummary> {
    assertId(id);
    const { values } = parsed(writeSecretBodySchema, body);
    const written = answer(
      await this.vault.write(id, values, actorOf(request), requestCorrelationId(request)),
    );
    const { created, ...summary } = written;
    void reply.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return summary;
  }

  @Get(':id/values')
  async read(
    @Param('id') id: string,
    @Query('keys') keys: string | undefined,
    @Req() request: FastifyRequest,
  ): Promise<SecretWithValues> {
    assertId(id);
    const wanted = keys === undefined ? undefined : keys.split(',').filter(Boolean);
    if (wanted?.some((k) => !SECRET_KEY_PATTERN.test(k)))
      throw new ValidationProblem([{ field: 'keys', rule: 'isKeyName', message: KEY_RULE }]);
    const read = answer(await this.vault.read(id, wanted, actorOf(request), requestCorrelationId(request)));
    return { ...read.summary, values: read.values };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async remove(@Param('id') id: string, @Req() request: FastifyRequest): Promise<void> {
    assertId(id);
    answer(await this.vault.remove(id, actorOf(request), requestCorrelationId(request)));
  }

  // A worker agent, at a job's start: the job's variables from its secret references.
  @Post('resolve')
  @HttpCode(HttpStatus.OK)
  async resolve(@Body() body: unknown, @Req() request: FastifyRequest): Promise<ResolvedSecrets> {
    return answer(
      await this.vault.resolve(parsed(resolveSecretsBodySchema, body), requestCorrelationId(request)),
    );
  }

  @Get('-/rotation')
  rotationStatus(): Promise<RotationStatus> {
    return this.rotation.status();
  }

  // Runs the rotation to its end (it also starts by itself when the service starts with old keys).
  @Post('-/rotation')
  @HttpCode(HttpStatus.OK)
  async rotate(): Promise<RotationStatus & { rewrapped: number }> {
    const rewrapped = await this.rotation.run();
    return { ...(await this.rotation.status()), rewrapped };
  }
}

const KEY_RULE =
  'keys are environment variable names: a letter or "_", then letters, digits or "_" (at most 128)';

function assertId(id: string): void {
  const violation = secretIdViolation(id);
  if (violation) throw new ValidationProblem([violation]);
}

// zod's messages name the rule, never the input: safe for values.
function parsed<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const violations: FieldViolation[] = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || 'body',
    rule: issue.code,
    message: issue.code === 'invalid_key' ? KEY_RULE : issue.message,
  }));
  throw new ValidationProblem(violations);
}

function answer<T extends object>(result: T | Refused): T {
  if ('ok' in result && result.ok === false) {
    const { code, message, field } = result.error;
    throw new ProblemException(
      httpStatusOf(code),
      code.replace('_', '-'),
      code === 'not_found' ? 'Not Found' : 'Refused',
      message,
      field ? [{ field, rule: code === 'not_found' ? 'exists' : code, message }] : undefined,
    );
  }
  return result as T;
}

// Who asked, as the gateway says (these routes take only callers with the internal token): the
// API key its request acted as and where it came from; `anonymous` when it says nothing.
function actorOf(request: FastifyRequest): SecretActor {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return typeof value === 'string' && value ? value : undefined;
  };
  return {
    principal: (header(SECRET_PRINCIPAL_HEADER) ?? 'anonymous').slice(0, 200),
    source: (header(SECRET_SOURCE_HEADER) ?? request.socket.remoteAddress ?? '').slice(0, 300),
  };
}
