import type { FunctionsQuery, FunctionView } from '@spindle/read-models';
import type { NamedResource, NamedResources } from '../resources/named-resource';

// Functions as their read model shows them, for the callers that send function commands for
// another API (Mist's routes, Ilum's group requests, a group's delete) and answer once applied.
export function functionRows(
  resources: NamedResources,
  functions: FunctionsQuery,
): NamedResource<FunctionView, FunctionView> {
  return resources.of({ kind: 'function', path: '/api/v1/functions', query: functions, toDto: (row) => row });
}
