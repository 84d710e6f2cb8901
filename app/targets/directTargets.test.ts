import { describe, expect, it } from 'vitest';
import { tagAllows } from './directTargets';

describe('tagAllows', () => {
  it('matches a listed permission set exactly, or *', () => {
    expect(tagAllows('ReadOnly, Developer', 'Developer')).toBe(true);
    expect(tagAllows('*', 'Anything')).toBe(true);
    expect(tagAllows('ReadOnlyPlus', 'ReadOnly')).toBe(false);
    expect(tagAllows(undefined, 'ReadOnly')).toBe(false);
    expect(tagAllows('', 'ReadOnly')).toBe(false);
  });
});
