import { describe, expect, it } from 'vitest';
import { stateValueText, statusWithState } from '../../../src/common/state-value.ts';

describe('stateValueText', () => {
  it('writes a state value in one line: atomic, nested, and parallel regions in braces', () => {
    expect(stateValueText('declined')).toBe('declined');
    expect(stateValueText({ shipping: 'packing' })).toBe('shipping.packing');
    expect(stateValueText({ working: { upload: 'sending', progress: 'counting' } })).toBe('working.{upload: sending, progress: counting}');
  });
});

describe('statusWithState', () => {
  it('puts the state a run closed in beside its status, and leaves the status alone when none is known', () => {
    expect(statusWithState('completed', 'declined')).toBe('completed, in state declined');
    expect(statusWithState('terminated', { review: 'waiting' })).toBe('terminated, in state review.waiting');
    expect(statusWithState('running', undefined)).toBe('running');
    expect(statusWithState('completed', null)).toBe('completed');
  });
});
