import type { FastifyReply, FastifyRequest } from 'fastify';
import { ARTIFACT_NAME_PATTERN } from '@spindle/contracts';
import { requestCorrelationId } from '@spindle/platform';
import type { ArtifactUploads } from '../../artifacts/artifact-uploads.service';
import { multipartRefusal } from '../../artifacts/multipart-refusal';
import { ilumInvalid } from './ilum-errors.filter';

// The fields of Ilum's forms that carry files (each also as `<field>[]`, as list-minded clients
// send them).
export const ILUM_FILE_FIELDS = ['jars', 'files', 'pyFiles'] as const;
export type IlumFileField = (typeof ILUM_FILE_FIELDS)[number];

export interface IlumFormSpec {
  // The form's name in Ilum's API (`jobCreation`, `groupCreation`), in a refusal of the whole form.
  readonly form: string;
  readonly textFields: readonly string[];
  readonly maxFiles: number;
  readonly maxFields: number;
  readonly maxFieldBytes: number;
  readonly maxFileBytes: number;
  // The artifact a file of this name is stored as.
  readonly artifactName: (fileName: string) => string;
  // Gets the artifacts stored so far when the form is refused part way, so nothing is left behind.
  readonly onRefused: (artifacts: readonly string[]) => Promise<void>;
}

export interface IlumUploadedFile {
  readonly field: IlumFileField;
  readonly fileName: string;
  readonly artifact: string;
}

export interface IlumForm {
  readonly fields: Readonly<Record<string, string>>;
  readonly files: readonly IlumUploadedFile[];
}

function fileField(name: string): IlumFileField | undefined {
  const bare = name.endsWith('[]') ? name.slice(0, -2) : name;
  return (ILUM_FILE_FIELDS as readonly string[]).includes(bare) ? (bare as IlumFileField) : undefined;
}

// Reads one of Ilum's multipart forms and hands it to `use`, which makes what the form asks for.
// Whichever refuses, the artifacts the form stored go to `spec.onRefused`: a refused request keeps
// nothing.
export async function withIlumForm<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  uploads: ArtifactUploads,
  spec: IlumFormSpec,
  use: (form: IlumForm) => Promise<T>,
): Promise<T> {
  const form = await readIlumForm(request, reply, uploads, spec);
  try {
    return await use(form);
  } catch (e) {
    await spec.onRefused(form.files.map((f) => f.artifact));
    throw e;
  }
}

// Reads one of Ilum's multipart forms as it streams: its text fields, and each file of `jars`,
// `files` or `pyFiles` stored as an artifact at once. Text fields Ilum does not define are ignored,
// as its server does. Refused (400, nothing kept), naming the field: a text field given twice, a
// file in any other field (dropped silently it would surface later as a missing program), a file
// name that is not a plain name or is sent twice, more files or fields than the spec allows.
async function readIlumForm(
  request: FastifyRequest,
  reply: FastifyReply,
  uploads: ArtifactUploads,
  spec: IlumFormSpec,
): Promise<IlumForm> {
  if (!request.isMultipart()) throw ilumInvalid(`send the ${spec.form} as multipart/form-data`);
  const fields: Record<string, string> = {};
  const files: IlumUploadedFile[] = [];
  try {
    const parts = request.parts({
      limits: {
        fileSize: spec.maxFileBytes + 1,
        files: spec.maxFiles,
        fields: spec.maxFields,
        fieldSize: spec.maxFieldBytes,
      },
    });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (!spec.textFields.includes(part.fieldname)) continue;
        if (part.fieldname in fields) throw ilumInvalid(`${part.fieldname} may be given once`);
        fields[part.fieldname] = String(part.value);
        continue;
      }
      const field = fileField(part.fieldname);
      const refuse = (message: string) => {
        part.file.resume();
        void reply.header('connection', 'close');
        return ilumInvalid(message);
      };
      if (!field) throw refuse(`${part.fieldname} is not a file field: send files as jars, files or pyFiles`);
      if (!ARTIFACT_NAME_PATTERN.test(part.filename))
        throw refuse(
          `${field}: the file name must be a plain name: letters, digits, "_", ".", "+", "-"; no "/", "\\" or ".."`,
        );
      const artifact = spec.artifactName(part.filename);
      if (!ARTIFACT_NAME_PATTERN.test(artifact))
        throw refuse(`${field}: the file name ${part.filename} is too long`);
      if (files.some((f) => f.artifact === artifact))
        throw refuse(`${field}: ${part.filename} is sent twice`);
      await uploads.storeFile(part, artifact, requestCorrelationId(request), reply, false, field);
      files.push({ field, fileName: part.filename, artifact });
    }
  } catch (e) {
    await spec.onRefused(files.map((f) => f.artifact));
    // Too many files or fields: the form breaks a limit, which Ilum answers as validation.
    if (e instanceof Error && /limit reached/i.test(e.message)) throw ilumInvalid(e.message);
    throw multipartRefusal(e, spec.form);
  }
  return { fields, files };
}
