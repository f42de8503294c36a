import { KafkaNamespace } from './kafka-namespace';

describe('KafkaNamespace', () => {
  const names = new KafkaNamespace('staging');

  it("puts the namespace in front of Spindle's topics and every group", () => {
    expect(names.topic('spindle.scheduler.job.v1')).toBe('staging.spindle.scheduler.job.v1');
    expect(names.topic('spindle.scheduler.commands.v1.reply')).toBe(
      'staging.spindle.scheduler.commands.v1.reply',
    );
    expect(names.group('projector.jobs.v1')).toBe('staging.projector.jobs.v1');
  });

  it("leaves a client's topic as the client named it", () => {
    expect(names.topic('mist-requests')).toBe('mist-requests');
    expect(names.logicalTopic('mist-requests')).toBe('mist-requests');
  });

  it('reads a name on the broker back as the code knows it', () => {
    expect(names.logicalTopic('staging.spindle.scheduler.job.v1')).toBe('spindle.scheduler.job.v1');
    // Another installation's topic is not taken for one of ours.
    expect(names.logicalTopic('prod.spindle.scheduler.job.v1')).toBe('prod.spindle.scheduler.job.v1');
  });

  it('changes nothing without a namespace', () => {
    const none = new KafkaNamespace('');
    expect(none.topic('spindle.scheduler.job.v1')).toBe('spindle.scheduler.job.v1');
    expect(none.group('spindle-scheduler')).toBe('spindle-scheduler');
    expect(none.logicalTopic('spindle.scheduler.job.v1')).toBe('spindle.scheduler.job.v1');
  });
});
