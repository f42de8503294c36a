import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

// The OpenAPI shape of the RFC 9457 documents every native error is (see ProblemDetailsFilter).
@ApiSchema({ name: 'FieldViolation' })
export class FieldViolationDto {
  @ApiProperty({ description: 'The offending field, parameter or header', example: 'performTimeout' })
  field!: string;
  @ApiProperty({ description: 'The rule it broke', example: 'durationRange' })
  rule!: string;
  @ApiProperty({
    example: 'performTimeout must be from 1ms to 2147483647ms (about 24.8 days), or "Inf"',
  })
  message!: string;
}

@ApiSchema({ name: 'ProblemDetails', description: 'An RFC 9457 problem document (application/problem+json)' })
export class ProblemDetailsDto {
  @ApiProperty({
    description: 'What kind of problem: a URI under https://spindle.dev/problems/, or about:blank',
    example: 'https://spindle.dev/problems/validation',
  })
  type!: string;
  @ApiProperty({ example: 'Request validation failed' }) title!: string;
  @ApiProperty({ description: 'The HTTP status', example: 400 }) status!: number;
  @ApiPropertyOptional({
    example: 'performTimeout: performTimeout must be from 1ms to 2147483647ms (about 24.8 days), or "Inf"',
  })
  detail?: string;
  @ApiPropertyOptional({ description: 'The request path', example: '/api/v1/functions/sum/jobs' })
  instance?: string;
  @ApiPropertyOptional({
    type: [FieldViolationDto],
    description: 'Each field at fault and the rule it broke',
  })
  errors?: FieldViolationDto[];
}
