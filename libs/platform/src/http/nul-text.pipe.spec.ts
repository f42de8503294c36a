import { NulTextPipe } from './nul-text.pipe';
import { ValidationProblem } from './problem-details';

describe('NulTextPipe', () => {
  const pipe = new NulTextPipe();

  it('passes text without NUL, and what no client sent (custom decorators) untouched', () => {
    const body = { name: 'etl', args: { a: [1, 'two', null] } };
    expect(pipe.transform(body, { type: 'body' })).toBe(body);
    expect(pipe.transform('default', { type: 'param', data: 'name' })).toBe('default');
    expect(pipe.transform('\u0000', { type: 'custom' })).toBe('\u0000');
  });

  it('refuses a NUL anywhere, naming where: a parameter, a nested value, a key', () => {
    const refusal = (value: unknown, type: 'body' | 'param' | 'query', data?: string) => {
      try {
        pipe.transform(value, { type, data });
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationProblem);
        return (e as ValidationProblem).errors![0];
      }
      throw new Error('not refused');
    };
    expect(refusal('a\u0000b', 'param', 'name')).toMatchObject({ field: 'name', rule: 'noNul' });
    expect(refusal({ args: { list: ['ok', 'x\u0000'] } }, 'body')).toMatchObject({ field: 'args.list.1' });
    expect(refusal({ tags: { 'k\u0000': 'v' } }, 'body')).toMatchObject({ field: 'tags.k\u0000' });
    expect(refusal({ limit: '\u0000' }, 'query')).toMatchObject({ field: 'limit' });
  });
});
