import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CLUSTER_TYPES, REDACTED } from '@spindle/contracts';
import { SpringPageDto } from './spring-page';

export class IlumClusterIdDto {
  @ApiProperty({ example: '2f6c1f0e-4b7a-4c61-9d2a-7b1c9e0d5a10' }) clusterId!: string;
}

export class IlumClusterNamesDto {
  @ApiProperty({ type: [String], example: ['default', 'prod-k8s'] }) names!: string[];
}

// Ilum's clusterInfo (oneOf by type), flattened: the fields a type does not have are absent.
export class IlumClusterInfoDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ example: 'local[4]' }) sparkMaster!: string;
  @ApiProperty({ example: 'client' }) sparkDeployMode!: string;
  @ApiProperty({ nullable: true, type: String }) sparkStorage!: string | null;
  @ApiProperty({ description: `Storages by name; credentials read "${REDACTED}"` })
  storages!: Record<string, Record<string, string>>;
  @ApiProperty({ nullable: true, type: String }) defaultApplicationConfig!: string | null;
  @ApiProperty({ enum: CLUSTER_TYPES }) type!: string;
  @ApiPropertyOptional({ description: 'local' }) threads?: number;
  @ApiPropertyOptional({ description: 'k8s, yarn' }) url?: string;
  @ApiPropertyOptional() caCert?: string;
  @ApiPropertyOptional() clientCert?: string;
  @ApiPropertyOptional({ description: `"${REDACTED}" when one was given` }) clientKey?: string;
  @ApiPropertyOptional() clientKeyAlgorithm?: string;
  @ApiPropertyOptional({ description: `"${REDACTED}" when one was given` }) clientKeyPassphrase?: string;
  @ApiPropertyOptional() username?: string;
  @ApiPropertyOptional({ description: `"${REDACTED}" when one was given` }) password?: string;
}

export class IlumClusterPageDto extends SpringPageDto {
  @ApiProperty({ type: [IlumClusterInfoDto] }) content!: IlumClusterInfoDto[];
}
