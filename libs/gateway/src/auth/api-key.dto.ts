import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsISO8601, IsString, Length } from 'class-validator';
import { API_KEY_NAME_MAX, API_SCOPES } from '@spindle/contracts';
import type { ApiScope } from '@spindle/contracts';
import type { ApiKeyView } from '@spindle/read-models';
import { IsOmittable } from '@spindle/platform';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci', description: 'Who or what uses the key (shown in audit records)' })
  @IsString()
  @Length(1, API_KEY_NAME_MAX)
  name!: string;

  @ApiProperty({ enum: API_SCOPES, isArray: true, example: ['read', 'submit'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_SCOPES.length)
  @IsIn(API_SCOPES, { each: true })
  scopes!: ApiScope[];

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00Z',
    description: 'When the key stops working (ISO-8601, in the future); unset: never',
  })
  @IsOmittable()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

export class ApiKeyDto {
  @ApiProperty({ example: '0123456789abcdef' }) id!: string;
  @ApiProperty({ example: 'ci' }) name!: string;
  @ApiProperty({ enum: API_SCOPES, isArray: true }) scopes!: ApiScope[];
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expiresAt!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) revokedAt!: string | null;

  static from(row: ApiKeyView): ApiKeyDto {
    return {
      id: row.keyId,
      name: row.name,
      scopes: row.scopes,
      expiresAt: row.expiresAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      revokedAt: row.revokedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    example: 'spindle_0123456789abcdef_…',
    description: 'The key itself, shown this once: Spindle keeps only a verifier of it',
  })
  key!: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyDto] }) items!: ApiKeyDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
