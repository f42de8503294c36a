import { ApiProperty } from '@nestjs/swagger';
import { DEFAULT_INSTALLATION_SETTINGS, settingsJsonSchema } from '@spindle/contracts';

const schema = settingsJsonSchema();
const propertiesOf = (key: string) =>
  ((schema['properties'] as Record<string, { properties?: object }>)[key]?.properties ?? {}) as Record<
    string,
    object
  >;

// The settings document as OpenAPI shows it: the same JSON Schema the API publishes.
export class SettingsDto {
  @ApiProperty({
    type: 'object',
    properties: propertiesOf('jobs'),
    example: DEFAULT_INSTALLATION_SETTINGS.jobs,
  })
  jobs!: object;

  @ApiProperty({
    type: 'object',
    properties: propertiesOf('logs'),
    example: DEFAULT_INSTALLATION_SETTINGS.logs,
  })
  logs!: object;
}
