import type { FastifyReply, FastifyRequest } from 'fastify';
import { ARTIFACT_NAME_PATTERN } from '@spindle/contracts';
import type { ArtifactUploads } from '../../artifacts/artifact-uploads.service';
import { multipartRefusal } from '../../artifacts/multipart-refusal';
import { groupArtifactName } from '../../groups/group-definitions.service';
import { ilumInvalid } from './ilum-errors.filter';

const FILE_FIELDS = ['jars', 'files', 'pyFiles'] as const;
export type GroupFileField = (typeof FILE_FIELDS)[number];
const TEXT_FIELDS = new Set([
  'name',
  'clusterName',
  'description',
  'kind',
  'tags',
  'language',
  'jobConfig',
  'pyRequirements',
  'scale',
]);
// A group's form: its text fields and up to this many programs.
const MAX_FILES = 100;

export interface GroupForm {
  readonly fields: Readonly<Record<string, string>>;
  // The artifacts stored from its files, by the field they came in.
  readonly stored: Readonly<Record<GroupFileField, string[]>>;
}

function fileField(name: string): GroupFileField | undefined {
  const bare = name.endsWith('[]') ? name.slice(0, -2) : name;
  return (FILE_FIELDS as readonly string[]).includes(bare) ? (bare as GroupFileField) : undefined;
}

// Reads Ilum's multipart groupCreation as it streams: text fields are kept, each file (`jars`,
// `files`, `pyFiles`, also with "[]") goes to the artifact store as `group-<id>-<file name>`.
// Fields Ilum does not define are ignored, as its server does. On a refusal part way, `onRefused`
// gets what was stored so far, so nothing is left behind.
export async function readGroupForm(
  request: FastifyRequest,
  reply: FastifyReply,
  uploads: ArtifactUploads,
  groupId: string,
  onRefused: (stored: readonly string[]) => Promise<void>,
): Promise<GroupForm> {
  if (!request.isMultipart()) throw ilumInvalid('send the group as multipart/form-data (groupCreation)');
  const fields: Record<string, string> = {};
  const stored: Record<GroupFileField, string[]> = { jars: [], files: [], pyFiles: [] };
  try {
    const parts = request.parts({ limits: { files: MAX_FILES, fields: 50, fieldSize: 256 * 1024 } });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (TEXT_FIELDS.has(part.fieldname) && !(part.fieldname in fields))
          fields[part.fieldname] = String(part.value);
        continue;
      }
      const field = fileField(part.fieldname);
      if (!field) {
        part.file.resume();
        continue;
      }
      if (!ARTIFACT_NAME_PATTERN.test(part.filename)) {
        part.file.resume();
        void reply.header('connection', 'close');
        throw ilumInvalid(
          `${field}: the file name must be a plain name: letters, digits, "_", ".", "+", "-"; ` +
            'no "/", "\\" or ".."',
        );
      }
      const name = groupArtifactName(groupId, part.filename);
      if (!ARTIFACT_NAME_PATTERN.test(name)) {
        part.file.resume();
        throw ilumInvalid(`${field}: the file name ${part.filename} is too long`);
      }
      if (Object.values(stored).some((names) => names.includes(name))) {
        part.file.resume();
        throw ilumInvalid(`${field}: ${part.filename} is sent twice`);
      }
      await uploads.storeFile(part, name, reply, false);
      stored[field].push(name);
    }
  } catch (e) {
    await onRefused(Object.values(stored).flat());
    // Too many files or fields: the form breaks a limit, which Ilum answers as validation.
    if (e instanceof Error && /limit reached/i.test(e.message)) throw ilumInvalid(e.message);
    throw multipartRefusal(e, 'groupCreation');
  }
  return { fields, stored };
}
