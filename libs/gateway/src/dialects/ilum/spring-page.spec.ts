import type { IlumError } from './ilum-errors.filter';
import { springPage, springPageRequest } from './spring-page';

const FIELDS = ['name', 'createdTime'] as const;

function refusal(query: Record<string, string | string[]>): IlumError {
  try {
    springPageRequest(query, FIELDS);
  } catch (e) {
    return e as IlumError;
  }
  throw new Error('accepted');
}

describe("Ilum's Spring pages", () => {
  it('defaults to page 0 of 10, unsorted', () => {
    expect(springPageRequest({}, FIELDS)).toEqual({ page: 0, size: 10, sort: [] });
  });

  it('reads repeated sort rules in order, direction defaulting to asc', () => {
    expect(springPageRequest({ page: '2', size: '5', sort: ['createdTime,DESC', 'name'] }, FIELDS)).toEqual({
      page: 2,
      size: 5,
      sort: [
        { field: 'createdTime', ascending: false },
        { field: 'name', ascending: true },
      ],
    });
  });

  it('refuses malformed pages with 409, naming the parameter', () => {
    const cases: [Record<string, string | string[]>, string][] = [
      [{ page: '-1' }, 'page'],
      [{ size: '0' }, 'size'],
      [{ size: '1001' }, 'size'],
      [{ page: ['1', '2'] }, 'page'],
      [{ sort: 'secret,asc' }, 'sort'],
      [{ sort: 'name,up' }, 'sort'],
    ];
    for (const [query, word] of cases) {
      const e = refusal(query);
      expect(e.status).toBe(409);
      expect(e.message).toContain(word);
    }
  });

  it('answers real totals and where the page stands', () => {
    const request = springPageRequest({ page: '1', size: '2', sort: 'name,desc' }, FIELDS);
    expect(springPage(request, ['c', 'd'], 5, (r) => ({ r }))).toEqual({
      page: { number: 1, size: 2, offset: 2, paged: true },
      sort: ['name,desc'],
      totalElements: 5,
      totalPages: 3,
      first: false,
      last: false,
      empty: false,
      content: [{ r: 'c' }, { r: 'd' }],
    });
    const beyond = springPage(springPageRequest({ page: '9' }, FIELDS), [], 5, (r) => r);
    expect(beyond).toMatchObject({ empty: true, last: true, totalElements: 5, totalPages: 1 });
  });
});
