import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_INSTALLATION_SETTINGS,
  SETTINGS_STREAM_ID,
  installationSettingsSchema,
} from '@spindle/contracts';
import type { InstallationSettings } from '@spindle/contracts';
import { waitForStreamPosition } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { SettingsView } from './settings.view';

// The settings in force, read where they are used (one primary-key row), so a change applies as
// soon as the projector has it: no restart, no cache to go stale.
@Injectable()
export class SettingsQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  async current(): Promise<InstallationSettings> {
    const row = await this.dataSource.getRepository(SettingsView).findOneBy({ streamId: SETTINGS_STREAM_ID });
    // Parsed, so a row written before a later setting existed reads with that setting's default.
    return row ? installationSettingsSchema.parse(row.settings) : DEFAULT_INSTALLATION_SETTINGS;
  }

  waitForPosition(position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, SettingsView, SETTINGS_STREAM_ID, position, timeoutMs);
  }
}
