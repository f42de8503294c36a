import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { eventRulesSchema, logCatalogueSchema, loggersDocumentSchema } from './cluster-config';

// On topic spindle.scheduler.cluster-config.v1: each event carries its stream's whole document.
export const clusterConfigEventDataSchemas = {
  'LogCatalogueReplaced@1': z.object({ logs: logCatalogueSchema }),
  'LoggersChanged@1': z.object({ loggers: loggersDocumentSchema }),
  'EventRulesReplaced@1': z.object({ files: eventRulesSchema }),
} as const;

type Schemas = typeof clusterConfigEventDataSchemas;
export type LogCatalogueReplacedV1 = EventData<Schemas['LogCatalogueReplaced@1']>;
export type LoggersChangedV1 = EventData<Schemas['LoggersChanged@1']>;
export type EventRulesReplacedV1 = EventData<Schemas['EventRulesReplaced@1']>;
export type ClusterConfigEvent = EventsOf<Schemas>;
export const isClusterConfigEvent = isEventOf(clusterConfigEventDataSchemas);
