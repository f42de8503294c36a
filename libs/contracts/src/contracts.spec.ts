import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { commandPayloadSchemas } from './command-registry';
import { eventDataSchemas, parseEvent } from './event-registry';
import { CommandPatterns, CommandTopics, commandTopicOf, replyTopicOf } from './topics';

// The wire contract, pinned: one JSON fixture per event type and version, one per command pattern.
// A fixture sets every field its schema knows, so adding, removing or renaming a field fails here
// until its fixture changes with it, and the change shows as a diff.
const fixtures = join(__dirname, '..', 'fixtures');

function read(dir: string): Map<string, unknown> {
  const files = readdirSync(join(fixtures, dir)).filter((f) => f.endsWith('.json'));
  return new Map(
    files.map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(fixtures, dir, f), 'utf8'))]),
  );
}

function fieldsOf(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape).sort() : [];
}

function keysOf(value: unknown): string[] {
  return Object.keys(value as object).sort();
}

describe('event contracts', () => {
  const events = read('events');
  // `ContextCreated@1` is pinned by fixtures/events/ContextCreated.v1.json.
  const fixtureOf = (key: string) => key.replace(/@(\d+)$/, '.v$1');
  const registered = Object.keys(eventDataSchemas);

  it('has a fixture for every registered type and version, and none for anything else', () => {
    expect([...events.keys()].sort()).toEqual(registered.map(fixtureOf).sort());
  });

  describe.each(registered)('%s', (key) => {
    const fixture = events.get(fixtureOf(key)) as { type: string; version: number; data: unknown };
    const schema = eventDataSchemas[key as keyof typeof eventDataSchemas];

    it('is the event its name says', () => {
      expect(`${fixture.type}@${fixture.version}`).toBe(key);
    });

    it('reads back exactly as written', () => {
      expect(JSON.stringify(parseEvent(fixture))).toBe(JSON.stringify(fixture));
    });

    it('sets every field of its payload', () => {
      expect(keysOf(fixture.data)).toEqual(fieldsOf(schema));
    });
  });
});

describe('command contracts', () => {
  const commands = read('commands');
  // spindle.scheduler.cmd.submit-job.v1 is pinned by fixtures/commands/submit-job.v1.json.
  const fixtureOf = (pattern: string) => pattern.replace(/^spindle\.[a-z-]+\.cmd\./, '');
  const patterns = Object.keys(commandPayloadSchemas);

  it("sends every command on its owner's one command topic, answered on its reply topic", () => {
    expect(Object.values(CommandPatterns).map(commandTopicOf)).toEqual(
      Object.values(CommandPatterns).map(() => CommandTopics.scheduler),
    );
    expect(replyTopicOf(CommandTopics.scheduler)).toBe('spindle.scheduler.commands.v1.reply');
    expect(() => commandTopicOf('spindle.scheduler.job.v1')).toThrow(/not a command/);
    expect(() => commandTopicOf('spindle.worker.cmd.stop.v1')).toThrow(
      /not a command of a service that receives/,
    );
  });

  it('has a fixture for every command pattern, and none for anything else', () => {
    expect([...commands.keys()].sort()).toEqual(patterns.map(fixtureOf).sort());
  });

  describe.each(patterns)('%s', (pattern) => {
    const fixture = commands.get(fixtureOf(pattern));
    const schema = commandPayloadSchemas[pattern as keyof typeof commandPayloadSchemas];

    it('reads back exactly as written', () => {
      expect(JSON.stringify(schema.parse(fixture))).toBe(JSON.stringify(fixture));
    });

    it('sets every field of its payload', () => {
      expect(keysOf(fixture)).toEqual(fieldsOf(schema));
    });
  });
});
