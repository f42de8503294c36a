import { z } from 'zod';
import { SECRET_ID_PATTERN, SECRET_KEY_PATTERN, SECRET_MAX_KEYS } from './secret.events';

// A function or a job names the secrets its process gets as environment variables: every key of
// the secret, or only `keys`. Jobs, events and read models carry these references, never values.
export const SECRET_REFS_MAX = 20;

export const secretRefSchema = z.object({
  id: z.string().regex(SECRET_ID_PATTERN),
  keys: z.array(z.string().regex(SECRET_KEY_PATTERN)).min(1).max(SECRET_MAX_KEYS).optional(),
});
export type SecretRef = z.infer<typeof secretRefSchema>;
export const secretRefsSchema = z.array(secretRefSchema).max(SECRET_REFS_MAX);

// The function's references and the submit's together: one reference per id, all keys when any
// of its references asks for all, else the union of the keys asked for (in order of first mention).
export function mergeSecretRefs(...lists: readonly (readonly SecretRef[] | undefined)[]): SecretRef[] {
  const merged = new Map<string, { all: boolean; keys: string[] }>();
  for (const ref of lists.flatMap((l) => l ?? [])) {
    const entry = merged.get(ref.id) ?? { all: false, keys: [] };
    if (ref.keys === undefined) entry.all = true;
    else for (const k of ref.keys) if (!entry.keys.includes(k)) entry.keys.push(k);
    merged.set(ref.id, entry);
  }
  return [...merged].map(([id, e]) => (e.all ? { id } : { id, keys: e.keys }));
}
