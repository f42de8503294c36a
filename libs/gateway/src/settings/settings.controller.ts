import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { InstallationSettings } from '@spindle/contracts';
import { DEFAULT_INSTALLATION_SETTINGS } from '@spindle/contracts';
import { ReadsFrom } from '../consistency/consistent-read';
import { InstallationSettingsService } from './installation-settings.service';
import { SettingsDto } from './settings.dto';
import { CorrelationId, RequiresScope } from '@spindle/platform';

@ApiTags('settings')
@RequiresScope('read')
@Controller('api/v1/settings')
export class SettingsController {
  constructor(private readonly settings: InstallationSettingsService) {}

  @Get()
  @ReadsFrom('settings')
  @ApiOperation({ summary: "The installation's settings in force (the defaults until first changed)" })
  @ApiOkResponse({ type: SettingsDto })
  get(): Promise<InstallationSettings> {
    return this.settings.current();
  }

  @RequiresScope('admin')
  @Put()
  @ApiOperation({
    summary:
      'Replace the settings: validated against the published JSON Schema, missing values take their defaults; applies at once',
  })
  @ApiBody({ type: SettingsDto, examples: { defaults: { value: DEFAULT_INSTALLATION_SETTINGS } } })
  @ApiOkResponse({ type: SettingsDto })
  @ApiBadRequestResponse({ description: 'Each invalid or unknown path named in `errors`' })
  put(@Body() body: unknown, @CorrelationId() correlationId: string): Promise<InstallationSettings> {
    return this.settings.change(body, correlationId);
  }
}
