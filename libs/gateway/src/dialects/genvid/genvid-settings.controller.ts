import { Body, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { DEFAULT_INSTALLATION_SETTINGS, settingsJsonSchema } from '@spindle/contracts';
import type { InstallationSettings } from '@spindle/contracts';
import { ReadsFrom } from '../../consistency/consistent-read';
import { InstallationSettingsService } from '../../settings/installation-settings.service';
import { SettingsDto } from '../../settings/settings.dto';
import { DialectController } from '../dialect-controller';
import { GENVID_PREFIX, GenvidErrorsFilter } from './genvid-errors.filter';
import { CorrelationId, RequiresScope } from '@spindle/platform';

// Genvid's cluster settings are Spindle's installation settings: the same document, schema and
// events as the native /api/v1/settings.
@DialectController('genvid: settings', GenvidErrorsFilter, `${GENVID_PREFIX}/v1`)
export class GenvidSettingsController {
  constructor(private readonly settings: InstallationSettingsService) {}

  @Get('settings')
  @ReadsFrom('settings')
  @ApiOperation({ summary: 'Get the settings in JSON format' })
  @ApiOkResponse({ type: SettingsDto })
  get(): Promise<InstallationSettings> {
    return this.settings.current();
  }

  @Get('settings/default')
  @ApiOperation({ summary: 'Get the default settings' })
  @ApiOkResponse({ type: SettingsDto })
  defaults(): InstallationSettings {
    return DEFAULT_INSTALLATION_SETTINGS;
  }

  @Get('schemas/settings.json')
  @ApiOperation({ summary: 'Get the settings JSON Schema, used to validate the settings' })
  @ApiOkResponse({
    schema: { type: 'object', example: { $schema: 'https://json-schema.org/draft/2020-12/schema' } },
  })
  schema(): Record<string, unknown> {
    return settingsJsonSchema();
  }

  @RequiresScope('admin')
  @Post('settings')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      'Validate and set the settings; any missing value is replaced by its default. Answers the settings set',
  })
  @ApiBody({ type: SettingsDto })
  @ApiOkResponse({ type: SettingsDto })
  @ApiBadRequestResponse({ description: '`{"error": "..."}` naming each invalid path' })
  set(@Body() body: unknown, @CorrelationId() correlationId: string): Promise<InstallationSettings> {
    return this.settings.change(body, correlationId);
  }
}
