import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean } from 'class-validator';
import { ARTIFACT_KINDS } from '@spindle/contracts';
import type { ArtifactKind } from '@spindle/contracts';
import type { ArtifactView } from '@spindle/read-models';
import { IsOmittable } from '@spindle/platform';

export class ArtifactDto {
  @ApiProperty({ example: 'wordcount.py' }) name!: string;
  @ApiProperty({ enum: ARTIFACT_KINDS, example: 'python' }) kind!: ArtifactKind;
  @ApiProperty({ example: 1024, description: 'Bytes' }) size!: number;
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  sha256!: string;
  @ApiProperty({ example: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' }) sha1!: string;
  @ApiProperty({ example: 'text/x-python' }) contentType!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static from(view: ArtifactView): ArtifactDto {
    return {
      name: view.name,
      kind: view.kind,
      size: view.size,
      sha256: view.sha256,
      sha1: view.sha1,
      contentType: view.contentType,
      createdAt: view.createdAt.toISOString(),
      updatedAt: view.updatedAt.toISOString(),
    };
  }
}

export class ArtifactPageDto {
  @ApiProperty({ type: [ArtifactDto] }) items!: ArtifactDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}

export class UploadArtifactQueryDto {
  @ApiPropertyOptional({
    description: 'Replace the content of an existing artifact with this name',
    default: false,
  })
  @IsOmittable()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  force?: boolean;
}
