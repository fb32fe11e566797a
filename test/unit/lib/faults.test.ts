import { describe, expect, it } from 'vitest';
import { classifyFault } from '../../../src/lib/faults.ts';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyFault', () => {
  it.each([
    ['admin shutdown 57P01', withCode('terminating connection due to administrator command', '57P01'), 'transient'],
    ['cannot connect now 57P03', withCode('the database system is starting up', '57P03'), 'transient'],
    ['connection failure 08006', withCode('connection failure', '08006'), 'transient'],
    ['serialization failure', withCode('could not serialize access', '40001'), 'transient'],
    ['deadlock', withCode('deadlock detected', '40P01'), 'transient'],
    ['ECONNREFUSED', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), 'transient'],
    ['pg connection terminated', new Error('Connection terminated unexpectedly'), 'transient'],
    ['ioredis closed', new Error('Connection is closed.'), 'transient'],
    ['wrapped in a cause', new Error('batch failed', { cause: withCode('x', 'ECONNRESET') }), 'transient'],
    ['all parts of an AggregateError', new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'ECONNREFUSED')]), 'transient'],
    ['NUL in text 22P05', withCode('unsupported Unicode escape sequence', '22P05'), 'poison'],
    ['invalid byte sequence 22021', withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021'), 'poison'],
    ['unique violation 23505', withCode('duplicate key value', '23505'), 'poison'],
    ['stack overflow', new RangeError('Maximum call stack size exceeded'), 'poison'],
    ['a plain TypeError', new TypeError('x is undefined'), 'poison'],
    ['a string', 'weird', 'poison'],
    ['undefined', undefined, 'poison'],
  ])('%s is %s', (_name, err, kind) => {
    expect(classifyFault(err)).toBe(kind);
  });
});
