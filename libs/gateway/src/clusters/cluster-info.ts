import { REDACTED } from '@spindle/contracts';
import type { ClusterView } from '@spindle/read-models';

// The Spark master and deploy mode a cluster's type implies (what Ilum's clusterInfo reports).
export function sparkMasterOf(view: ClusterView): { sparkMaster: string; sparkDeployMode: string } {
  const s = view.definition.settings;
  switch (view.type) {
    case 'local':
      return { sparkMaster: `local[${String(s['threads'] ?? '*')}]`, sparkDeployMode: 'client' };
    case 'k8s':
      return { sparkMaster: `k8s://${String(s['url'] ?? '')}`, sparkDeployMode: 'cluster' };
    case 'yarn':
      return { sparkMaster: 'yarn', sparkDeployMode: 'cluster' };
    default: {
      const unknownType: never = view.type;
      throw new Error(`unexpected cluster type ${String(unknownType)}`);
    }
  }
}

// A cluster as Ilum's clusterInfo shows it: the type's fields flat, storages by name, and every
// credential that was given as "***" (Ilum echoes them; Spindle never does). Credentials that
// were not given are absent.
export function clusterInfoOf(view: ClusterView): Record<string, unknown> {
  const d = view.definition;
  const storages: Record<string, Record<string, string>> = {};
  for (const [name, fields] of Object.entries(d.storages)) storages[name] = { ...fields };
  const top: Record<string, unknown> = {};
  for (const path of view.secretFields) {
    const parts = path.split('.');
    if (parts[0] === 'storages' && parts.length === 3 && storages[parts[1]!]) {
      storages[parts[1]!]![parts[2]!] = REDACTED;
    } else if (parts.length === 1) top[path] = REDACTED;
  }
  return {
    id: view.id,
    name: view.name,
    description: d.description,
    ...sparkMasterOf(view),
    sparkStorage: d.sparkStorage,
    storages,
    defaultApplicationConfig: d.defaultApplicationConfig,
    type: view.type,
    ...d.settings,
    ...top,
  };
}
