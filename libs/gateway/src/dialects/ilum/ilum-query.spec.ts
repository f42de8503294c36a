import type { IlumError } from './ilum-errors.filter';
import { listParam } from './ilum-query';

describe("Ilum's list parameters", () => {
  it('reads repeated, bracketed and comma-separated values; absent or empty is no filter', () => {
    expect(listParam({ jobStates: ['FAILED', 'BUSY'] }, 'jobStates')).toEqual(['FAILED', 'BUSY']);
    expect(listParam({ 'jobStates[]': 'FAILED', jobStates: 'BUSY,READY' }, 'jobStates')).toEqual([
      'BUSY',
      'READY',
      'FAILED',
    ]);
    expect(listParam({}, 'jobStates')).toBeUndefined();
    expect(listParam({ jobStates: '' }, 'jobStates')).toBeUndefined();
  });

  it('refuses a value outside the allowed ones with 409, naming the parameter', () => {
    let refusal: IlumError | undefined;
    try {
      listParam({ jobTypes: 'SINGLE,BATCH' }, 'jobTypes', ['SINGLE', 'INTERACTIVE'] as const);
    } catch (e) {
      refusal = e as IlumError;
    }
    expect(refusal?.status).toBe(409);
    expect(refusal?.message).toBe('jobTypes must be among SINGLE, INTERACTIVE');
  });
});
