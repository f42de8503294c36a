import { JOB_TAGS_MAX } from '@spindle/contracts';
import { ilumInvalid } from './ilum-errors.filter';
import { parsePairs } from './ilum-job-format';

// A list parameter as Spring binds it: repeated (`jobStates=A&jobStates=B`), with brackets
// (`jobStates[]=A`) or comma-separated (`jobStates=A,B`); absent or empty is no filter. With
// `allowed`, every value must be one of them (409 naming the parameter otherwise).
export function listParam<T extends string>(
  query: Readonly<Record<string, unknown>>,
  name: string,
  allowed?: readonly T[],
): T[] | undefined {
  const raw = [query[name], query[`${name}[]`]].flatMap((v) => (v === undefined ? [] : [v].flat()));
  const values = raw
    .flatMap((v) => (typeof v === 'string' ? v : JSON.stringify(v)).split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (values.length === 0) return undefined;
  if (values.length > 100) throw ilumInvalid(`${name} holds at most 100 values`);
  if (allowed !== undefined) {
    const wrong = values.filter((v) => !(allowed as readonly string[]).includes(v));
    if (wrong.length > 0) throw ilumInvalid(`${name} must be among ${allowed.join(', ')}`);
  }
  return values as T[];
}

// A `k=v;k2=v2` parameter or form field (tags, jobConfig) as a map; malformed: 409 naming it.
export function pairsParam(
  field: string,
  text: string | undefined,
  max = JOB_TAGS_MAX,
): Record<string, string> {
  const pairs = parsePairs(field, text, max);
  if (!pairs.ok) throw ilumInvalid(pairs.message);
  return pairs.value;
}
