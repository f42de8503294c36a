import type { z } from 'zod';
import { CommandPatterns } from './topics';
import type { CommandPattern } from './topics';
import {
  createContextCommandSchema,
  deleteContextCommandSchema,
  updateContextCommandSchema,
} from './scheduler/context.commands';
import {
  changeFunctionCommandSchema,
  deleteFunctionCommandSchema,
  registerFunctionCommandSchema,
} from './scheduler/function.events';
import {
  cancelJobCommandSchema,
  deleteJobCommandSchema,
  submitJobCommandSchema,
} from './scheduler/job.events';
import { stopWorkerCommandSchema } from './scheduler/worker.events';
import { createClusterCommandSchema, deleteClusterCommandSchema } from './scheduler/cluster.commands';
import {
  createGroupCommandSchema,
  groupNameCommandSchema,
  rescaleGroupCommandSchema,
} from './scheduler/group.commands';
import { changeSettingsCommandSchema } from './scheduler/settings.commands';
import {
  createServiceJobCommandSchema,
  deleteServiceJobCommandSchema,
  scaleServiceJobCommandSchema,
  startServiceJobCommandSchema,
  stopServiceJobCommandSchema,
} from './scheduler/service-job.commands';
import {
  replaceEventRulesCommandSchema,
  replaceLogCatalogueCommandSchema,
  setLoggerLevelsCommandSchema,
} from './cluster-config/cluster-config.commands';
import { createApiKeyCommandSchema, revokeApiKeyCommandSchema } from './auth/api-key.commands';
import {
  stopMapReduceJobCommandSchema,
  submitMapReduceJobCommandSchema,
} from './mapreduce/mapreduce-job.commands';

// The payload schema of every command topic: what its message controller validates.
export const commandPayloadSchemas = {
  [CommandPatterns.createContext]: createContextCommandSchema,
  [CommandPatterns.updateContext]: updateContextCommandSchema,
  [CommandPatterns.deleteContext]: deleteContextCommandSchema,
  [CommandPatterns.registerFunction]: registerFunctionCommandSchema,
  [CommandPatterns.changeFunction]: changeFunctionCommandSchema,
  [CommandPatterns.deleteFunction]: deleteFunctionCommandSchema,
  [CommandPatterns.submitJob]: submitJobCommandSchema,
  [CommandPatterns.cancelJob]: cancelJobCommandSchema,
  [CommandPatterns.deleteJob]: deleteJobCommandSchema,
  [CommandPatterns.stopWorker]: stopWorkerCommandSchema,
  [CommandPatterns.createCluster]: createClusterCommandSchema,
  [CommandPatterns.deleteCluster]: deleteClusterCommandSchema,
  [CommandPatterns.createGroup]: createGroupCommandSchema,
  [CommandPatterns.rescaleGroup]: rescaleGroupCommandSchema,
  [CommandPatterns.stopGroup]: groupNameCommandSchema,
  [CommandPatterns.deleteGroup]: groupNameCommandSchema,
  [CommandPatterns.changeSettings]: changeSettingsCommandSchema,
  [CommandPatterns.createServiceJob]: createServiceJobCommandSchema,
  [CommandPatterns.startServiceJob]: startServiceJobCommandSchema,
  [CommandPatterns.stopServiceJob]: stopServiceJobCommandSchema,
  [CommandPatterns.scaleServiceJob]: scaleServiceJobCommandSchema,
  [CommandPatterns.deleteServiceJob]: deleteServiceJobCommandSchema,
  [CommandPatterns.replaceLogCatalogue]: replaceLogCatalogueCommandSchema,
  [CommandPatterns.setLoggerLevels]: setLoggerLevelsCommandSchema,
  [CommandPatterns.replaceEventRules]: replaceEventRulesCommandSchema,
  [CommandPatterns.createApiKey]: createApiKeyCommandSchema,
  [CommandPatterns.revokeApiKey]: revokeApiKeyCommandSchema,
  [CommandPatterns.submitMapReduceJob]: submitMapReduceJobCommandSchema,
  [CommandPatterns.stopMapReduceJob]: stopMapReduceJobCommandSchema,
} as const satisfies Record<CommandPattern, z.ZodType>;
