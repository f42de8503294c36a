import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { InstallationSettings } from '@spindle/contracts';

// One row, the settings stream's: the document in force. No row: the defaults apply.
@Entity({ name: 'settings_v1' })
export class SettingsView {
  @PrimaryColumn('text', { name: 'stream_id' })
  streamId!: string;

  @Column('integer', { name: 'stream_position' })
  streamPosition!: number;

  @Column('jsonb')
  settings!: InstallationSettings;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
