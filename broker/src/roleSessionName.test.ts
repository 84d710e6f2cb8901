import { describe, expect, it } from 'vitest';
import { roleSessionNameFor } from './roleSessionName';

const VALID = /^[\w+=,.@-]{2,64}$/;

describe('roleSessionNameFor', () => {
  it('keeps names that are already valid', () => {
    expect(roleSessionNameFor('alice')).toBe('alice');
    expect(roleSessionNameFor('alice.smith@corp.example')).toBe('alice.smith@corp.example');
    expect(roleSessionNameFor('a'.repeat(64))).toBe('a'.repeat(64));
  });

  it('replaces disallowed characters and adds a hash so distinct users stay distinct', () => {
    const spaced = roleSessionNameFor('alice smith');
    const dashed = roleSessionNameFor('alice-smith');
    expect(spaced).toMatch(/^alice-smith-[0-9a-f]{8}$/);
    expect(dashed).toBe('alice-smith');
    expect(spaced).not.toBe(dashed);
    expect(roleSessionNameFor('jürgen')).toMatch(VALID);
  });

  it('truncates long names deterministically', () => {
    const long = `${'x'.repeat(80)}@corp.example`;
    const first = roleSessionNameFor(long);
    expect(first).toMatch(VALID);
    expect(first).toHaveLength(64);
    expect(roleSessionNameFor(long)).toBe(first);
    expect(roleSessionNameFor(`${'x'.repeat(80)}@corp.example2`)).not.toBe(first);
  });

  it('pads names that are too short', () => {
    expect(roleSessionNameFor('a')).toMatch(/^a-[0-9a-f]{8}$/);
    expect(roleSessionNameFor('')).toMatch(VALID);
  });
});
