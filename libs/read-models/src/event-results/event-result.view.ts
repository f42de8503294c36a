import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { MapResult, ReduceResult } from '@spindle/contracts';

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

// Genvid's events results log: what the event rules made of the events jobs published, at
// positions (`counter`) that only grow. Written by the projector, read by every gateway.
@Entity({ name: 'event_results_v1' })
export class EventResultView {
  @PrimaryColumn('bigint', { transformer: bigintAsNumber }) counter!: number;
  // `<job>:<line>:<map rule>` for a map result: a log batch delivered again adds nothing.
  @Column('text', { nullable: true }) dedup!: string | null;
  @Column('jsonb') result!: MapResult | ReduceResult;
  @Column('timestamptz', { name: 'recorded_at' }) recordedAt!: Date;
}

// The log's end: one row, updated by every transaction that appends, which holds its lock until
// it commits. So appends commit in counter order, and a reader that saw counter N has every result
// up to N.
@Entity({ name: 'event_results_head_v1' })
export class EventResultsHeadView {
  @PrimaryColumn('smallint') id!: number;
  @Column('bigint', { transformer: bigintAsNumber }) counter!: number;
}

// Where each reduction is: its period began at `windowFrom` and takes the map results after
// `afterCounter`; `rulesPosition` is the event-rules stream position it was started under.
@Entity({ name: 'event_reductions_v1' })
export class EventReductionView {
  @PrimaryColumn('text', { name: 'reduction_id' }) reductionId!: string;
  @Column('integer', { name: 'rules_position' }) rulesPosition!: number;
  @Column('bigint', { name: 'after_counter', transformer: bigintAsNumber }) afterCounter!: number;
  @Column('timestamptz', { name: 'window_from' }) windowFrom!: Date;
}
