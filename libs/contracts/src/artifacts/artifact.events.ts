import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';

// A safe file name: no separators, no "..", no leading dot or dash, at most 255 characters.
export const ARTIFACT_NAME_PATTERN = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}$/;
export const ARTIFACT_KINDS = ['jar', 'python', 'javascript', 'archive', 'executable', 'other'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

// The artifact store's internal upload carries the artifact's own content type in this header.
export const ARTIFACT_CONTENT_TYPE_HEADER = 'x-artifact-content-type';

export function artifactStreamId(name: string): string {
  return `artifact-${name}`;
}

export function artifactKindOf(name: string): ArtifactKind {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (ext === 'jar') return 'jar';
  if (ext === 'py') return 'python';
  if (['js', 'cjs', 'mjs'].includes(ext)) return 'javascript';
  if (['zip', 'tar', 'gz', 'tgz', 'egg', 'whl'].includes(ext)) return 'archive';
  if (['sh', 'bin', 'exe'].includes(ext) || !name.includes('.')) return 'executable';
  return 'other';
}

export const artifactEventDataSchemas = {
  'ArtifactStored@1': z.object({
    name: z.string().regex(ARTIFACT_NAME_PATTERN),
    kind: z.enum(ARTIFACT_KINDS),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/), // also the blob's address
    sha1: z.string().regex(/^[0-9a-f]{40}$/), // Mist clients ask for it
    contentType: z.string().min(1).max(255),
  }),
  'ArtifactDeleted@1': z.object({ name: z.string() }),
} as const;

type Schemas = typeof artifactEventDataSchemas;
export type ArtifactStoredV1 = EventData<Schemas['ArtifactStored@1']>;
export type ArtifactDeletedV1 = EventData<Schemas['ArtifactDeleted@1']>;

// On topic spindle.artifact-store.artifact.v1.
export type ArtifactEvent = EventsOf<Schemas>;
export const isArtifactEvent = isEventOf(artifactEventDataSchemas);
