import { describe, it, expect } from 'vitest';
import { InvalidArgumentError } from '../../../src/common/errors.ts';
import { decodeTaskToken, encodeTaskToken, type TaskRef } from '../../../src/engine/core/task-token.ts';

const base64url = (text: string) => Buffer.from(text).toString('base64url');

describe('task tokens', () => {
  it('decode to the task they were encoded from', () => {
    const ref: TaskRef = { namespace: 'default', shard: 17, runId: '0b6f1c7e-run', activityId: 'charge', attempt: 3 };
    expect(decodeTaskToken(encodeTaskToken(ref))).toEqual(ref);
  });

  it('survive ids with quotes, commas and non-ASCII characters', () => {
    const ref: TaskRef = { namespace: 'équipe "α"', shard: 0, runId: 'r,1', activityId: 'a]["', attempt: 1 };
    expect(decodeTaskToken(encodeTaskToken(ref))).toEqual(ref);
  });

  it('read a token of a server that named no shard as shard 0 (a single-node server\'s one shard)', () => {
    expect(decodeTaskToken(base64url('["n","r","a",2]'))).toEqual({ namespace: 'n', shard: 0, runId: 'r', activityId: 'a', attempt: 2 });
  });

  it('are URL-safe text', () => {
    expect(encodeTaskToken({ namespace: 'n', shard: 63, runId: 'r', activityId: '???>>>', attempt: 12 })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['an empty string', ''],
    ['text that is not base64 JSON', 'garbage'],
    ['base64 of a JSON object', base64url('{"namespace":"n","runId":"r","activityId":"a","attempt":1}')],
    ['base64 of a JSON string', base64url('"n,r,a,1"')],
    ['base64 of an array of three', base64url('["n","r","a"]')],
    ['base64 of an array of five whose shard is text', base64url('["n","r","a",1,"x"]')],
    ['base64 of an array of five whose shard is negative', base64url('["n","r","a",1,-1]')],
    ['base64 of an array of six', base64url('["n","r","a",1,0,0]')],
    ['an attempt that is a string', base64url('["n","r","a","1"]')],
    ['an attempt that is fractional', base64url('["n","r","a",1.5]')],
    ['an id that is a number', base64url('["n",7,"a",1]')],
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
  ])('refuses %s with INVALID_ARGUMENT', (_case, token) => {
    expect(() => decodeTaskToken(token)).toThrow(InvalidArgumentError);
    expect(() => decodeTaskToken(token)).toThrow(/^INVALID_ARGUMENT: malformed task token .*pass the taskToken of a task as received$/);
  });
});
