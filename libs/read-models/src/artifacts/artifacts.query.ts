import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { NamedViewQuery } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { ArtifactView } from './artifact.view';

@Injectable()
export class ArtifactsQuery extends NamedViewQuery<ArtifactView> {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) dataSource: DataSource) {
    super(dataSource, ArtifactView);
  }
}
