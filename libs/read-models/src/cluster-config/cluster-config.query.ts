import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  EMPTY_LOGGERS,
  EVENT_RULES_STREAM_ID,
  LOGGERS_STREAM_ID,
  LOG_CATALOGUE_STREAM_ID,
  eventRulesSchema,
  logCatalogueSchema,
  loggersDocumentSchema,
} from '@spindle/contracts';
import type { EventRulesFile, LogCatalogueEntry, LoggersDocument } from '@spindle/contracts';
import { waitForStreamPosition } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { ClusterConfigView } from './cluster-config.view';

// The cluster's configuration documents in force, one primary-key row each; never written: empty.
@Injectable()
export class ClusterConfigQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  async logCatalogue(): Promise<LogCatalogueEntry[]> {
    const document = await this.document(LOG_CATALOGUE_STREAM_ID);
    return document === null ? [] : logCatalogueSchema.parse(document);
  }

  async loggers(): Promise<LoggersDocument> {
    const document = await this.document(LOGGERS_STREAM_ID);
    return document === null ? EMPTY_LOGGERS : loggersDocumentSchema.parse(document);
  }

  async eventRules(): Promise<EventRulesFile[]> {
    const document = await this.document(EVENT_RULES_STREAM_ID);
    return document === null ? [] : eventRulesSchema.parse(document);
  }

  waitForPosition(streamId: string, position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, ClusterConfigView, streamId, position, timeoutMs);
  }

  private async document(streamId: string): Promise<unknown> {
    const row = await this.dataSource.getRepository(ClusterConfigView).findOneBy({ streamId });
    return row?.document ?? null;
  }
}
