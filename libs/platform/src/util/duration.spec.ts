import { formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['PT1H30M', 5_400_000],
    ['PT0.5S', 500],
    ['P1D', 86_400_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reads Inf as infinite', () => {
    expect(parseDuration('Inf')).toBeNull();
  });

  it.each(['10 parsecs', '', 'P', 'PT', '-5s', '5', 's', '1.5s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats back to the compact form', () => {
    expect(formatDuration(3_600_000)).toBe('3600s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(null)).toBe('Inf');
  });
});
