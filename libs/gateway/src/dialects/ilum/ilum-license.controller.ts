import { Body, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProperty } from '@nestjs/swagger';
import { RequiresScope } from '@spindle/platform';
import { DialectController } from '../dialect-controller';
import { ApiIlumConflict, IlumErrorsFilter, ilumInvalid } from './ilum-errors.filter';
import { ILUM_PREFIX } from './ilum-prefix';

// Ilum's licence statuses; Spindle is always GREEN.
const LICENSE_STATUSES = ['GREEN', 'YELLOW', 'RED'] as const;

// A key Ilum's clients may send is text of some length; anything else is not a key.
const LICENSE_KEY_MAX = 64 * 1024;

export class IlumLicenseInfoDto {
  @ApiProperty({
    enum: LICENSE_STATUSES,
    example: 'GREEN',
    description: 'Always GREEN: Spindle needs no licence, so nothing is ever refused for one (no 402)',
  })
  status!: (typeof LICENSE_STATUSES)[number];

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    nullable: true,
    example: null,
    description: 'When the licence expires, epoch ms: null, it never does',
  })
  expire!: number | null;
}

// Ilum's licence routes, so that a client (or its UI) that checks or sets a licence works
// unchanged: Spindle is open source and needs none, so the status is always GREEN with no expiry,
// and a key sent is accepted and ignored (nothing is recorded).
@DialectController('ilum: license', IlumErrorsFilter, `${ILUM_PREFIX}/license`)
export class IlumLicenseController {
  @RequiresScope('read')
  @Get()
  @ApiOperation({
    summary: "Returns the licence's status: always GREEN, never expiring (Spindle needs none)",
  })
  @ApiOkResponse({ type: IlumLicenseInfoDto })
  status(): IlumLicenseInfoDto {
    return { status: 'GREEN', expire: null };
  }

  @RequiresScope('write')
  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Accepts a licence key and ignores it (Spindle needs none); empty 200' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['key'],
      properties: {
        key: { type: 'string', minLength: 1, maxLength: LICENSE_KEY_MAX, example: 'ILUM-LICENSE-KEY' },
      },
    },
  })
  @ApiOkResponse({ description: 'Accepted; nothing is recorded' })
  @ApiIlumConflict('The body is not {key} with a non-empty text key')
  set(@Body() body: unknown): void {
    const key =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['key'] : undefined;
    if (typeof key !== 'string' || key.length === 0 || key.length > LICENSE_KEY_MAX)
      throw ilumInvalid(`key: a licence key is text of 1 to ${LICENSE_KEY_MAX} characters`);
  }
}
