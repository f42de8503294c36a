import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { WorkerMode, WorkerState } from '@spindle/contracts';

// One row per worker stream.
@Entity({ name: 'workers_v1' })
export class WorkerView {
  @PrimaryColumn('text', { name: 'stream_id' }) streamId!: string;
  @Column('integer', { name: 'stream_position' }) streamPosition!: number;
  @Column('uuid') id!: string;
  @Column('text') context!: string;
  @Column('text') mode!: WorkerMode;
  @Column('text', { name: 'host_id' }) hostId!: string;
  @Column('integer', { nullable: true }) pid!: number | null;
  @Column('text') state!: WorkerState;
  @Column('integer', { name: 'max_jobs' }) maxJobs!: number;
  @Column('text', { name: 'stop_reason', nullable: true }) stopReason!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'stopped_at', nullable: true }) stoppedAt!: Date | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

// Worker hosts as their latest heartbeat shows them.
@Entity({ name: 'hosts_v1' })
export class HostView {
  @PrimaryColumn('text') id!: string;
  @Column('text') incarnation!: string;
  @Column('text') hostname!: string;
  @Column('integer', { name: 'agent_pid' }) agentPid!: number;
  @Column('integer') slots!: number;
  @Column('boolean') stopping!: boolean;
  @Column('timestamptz', { name: 'started_at' }) startedAt!: Date;
  @Column('timestamptz', { name: 'last_seen' }) lastSeen!: Date;
  // Taken for gone unless heard again by then (see recordHeartbeats in the backbone).
  @Column('timestamptz', { name: 'heard_until' }) heardUntil!: Date;
}
