import { Column, Entity, PrimaryColumn } from 'typeorm';

// Every job and worker change in the order the projector applied it: what the /events streams
// serve, resumable by `seq` (the SSE event id).
@Entity({ name: 'feed_v1' })
export class FeedEntryView {
  @PrimaryColumn('bigint', { transformer: { to: (v: string) => v, from: (v: string) => v } }) seq!: string;
  @Column('uuid', { name: 'event_id' }) eventId!: string;
  @Column('text') kind!: 'job' | 'worker';
  @Column('text') type!: string;
  @Column('text', { name: 'subject_id' }) subjectId!: string; // job or worker id
  @Column('text') state!: string;
  @Column('text') context!: string;
  @Column('text', { nullable: true }) function!: string | null;
  @Column('text', { name: 'worker_id', nullable: true }) workerId!: string | null;
  @Column('jsonb') data!: Record<string, unknown>;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
}
