import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { NamedViewQuery } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { ContextView } from './context.view';

@Injectable()
export class ContextsQuery extends NamedViewQuery<ContextView> {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) dataSource: DataSource) {
    super(dataSource, ContextView);
  }
}
