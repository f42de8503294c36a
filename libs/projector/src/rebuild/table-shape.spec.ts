import { indexOn, rebuildName, shapeFrom } from './table-shape';

describe('the shape a rebuilt table copies', () => {
  it('names each constraint and index of the new table after the live one’s, suffixed', () => {
    expect(rebuildName('jobs_v1_pkey')).toBe('jobs_v1_pkey__rebuild');
  });

  it('rewrites an index definition onto the new table, under the new name, keeping what follows USING', () => {
    expect(
      indexOn(
        {
          name: 'idx_jobs_state',
          definition:
            'CREATE INDEX idx_jobs_state ON projector.jobs_v1 USING btree (state, "createdAt" DESC)',
        },
        '"projector"."jobs_v1__rebuild"',
      ),
    ).toBe(
      'create index "idx_jobs_state__rebuild" on "projector"."jobs_v1__rebuild" USING btree (state, "createdAt" DESC)',
    );
    expect(
      indexOn(
        { name: 'uq_ext', definition: 'CREATE UNIQUE INDEX uq_ext ON projector.jobs_v1 USING btree (ext)' },
        '"projector"."jobs_v1__rebuild"',
      ),
    ).toBe('create unique index "uq_ext__rebuild" on "projector"."jobs_v1__rebuild" USING btree (ext)');
  });

  it('refuses an index definition it cannot read', () => {
    expect(() => indexOn({ name: 'odd', definition: 'CREATE INDEX odd ON t (a)' }, 't2')).toThrow(
      'cannot read index odd',
    );
  });

  it('leaves out the indexes that back a constraint, and marks the primary key', () => {
    const shape = shapeFrom(
      [
        { name: 'jobs_v1_pkey', definition: 'PRIMARY KEY ("streamId")', type: 'p' },
        { name: 'uq_jobs_id', definition: 'UNIQUE (id)', type: 'u' },
      ],
      [
        {
          name: 'jobs_v1_pkey',
          definition: 'CREATE UNIQUE INDEX jobs_v1_pkey ON x USING btree ("streamId")',
        },
        { name: 'uq_jobs_id', definition: 'CREATE UNIQUE INDEX uq_jobs_id ON x USING btree (id)' },
        { name: 'idx_jobs_state', definition: 'CREATE INDEX idx_jobs_state ON x USING btree (state)' },
      ],
    );
    expect(shape.constraints.map((c) => [c.name, c.primary])).toEqual([
      ['jobs_v1_pkey', true],
      ['uq_jobs_id', false],
    ]);
    expect(shape.indexes.map((i) => i.name)).toEqual(['idx_jobs_state']);
  });

  it('refuses a name that would pass Postgres’s 63 characters once suffixed', () => {
    const long = 'i'.repeat(55);
    expect(() => shapeFrom([], [{ name: long, definition: 'CREATE INDEX ...' }])).toThrow(
      `index name ${long} is too long to rebuild beside`,
    );
    expect(() => shapeFrom([], [{ name: 'i'.repeat(54), definition: 'CREATE INDEX ...' }])).not.toThrow();
  });
});
