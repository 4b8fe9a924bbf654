// The header list upload() keeps instead of a WHATWG Headers (src/http/header-list.ts) must take,
// refuse, trim, combine and order exactly what Node's own Headers does: every case is run through
// both, and the outcomes (the pairs iterated, or a TypeError) compared.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderList, headerListOf } from '../../src/http/header-list.js';

type Outcome = { pairs: Array<[string, string]> } | { refused: string };

function outcome(make: () => Iterable<[string, string]>): Outcome {
  try {
    return { pairs: [...make()] };
  } catch (error) {
    return { refused: (error as Error).constructor.name };
  }
}

const both = (init: unknown) => ({
  ours: outcome(() => headerListOf(init)),
  node: outcome(() => new Headers(init as ConstructorParameters<typeof Headers>[0])),
});

const CASES: Array<[string, unknown]> = [
  ['nothing', undefined],
  ['null', null],
  ['a number', 5],
  ['a string', 'ab'],
  ['a record', { 'X-B': '2', a: '1' }],
  ['a number value', { a: 1 }],
  ['an array value', { a: ['x', 'y'] }],
  ['a symbol value', { a: Symbol('s') }],
  ['a symbol key', { [Symbol('s')]: 'x', b: '2' }],
  ['an inherited key', Object.create({ inherited: '1' })],
  ['whitespace at both ends', { a: ' \t v \r\n' }],
  ['whitespace alone', { a: ' \t ' }],
  ['an empty name', { '': 'x' }],
  ['a name with a space', { 'bad name': 'x' }],
  ['a name with a colon', { 'a:b': 'x' }],
  ['a non-ASCII name', { é: 'v' }],
  ['LF inside a value', { a: 'x\ny' }],
  ['CR inside a value', { a: 'x\ry' }],
  ['NUL inside a value', { a: 'x\0y' }],
  ['DEL inside a value', { a: 'x\x7fy' }],
  ['latin-1 in a value', { a: 'é' }],
  ['past latin-1 in a value', { a: '€' }],
  [
    'pairs',
    [
      ['b', '1'],
      ['A', '2'],
      ['a', '3'],
    ],
  ],
  ['a pair of one', [['a']]],
  ['a pair of three', [['a', 'b', 'c']]],
  ['a pair that is a string', ['ab']],
  ['a pair that is a Set', [new Set(['a', 'b'])]],
  [
    'a Map',
    new Map([
      ['a', '1'],
      ['B', '2'],
    ]),
  ],
  [
    'a Headers',
    new Headers([
      ['z', '1'],
      ['a', '2'],
      ['A', '3'],
    ]),
  ],
  [
    'an iterable of pairs made by a generator',
    {
      *[Symbol.iterator]() {
        yield ['a', '1'];
      },
    },
  ],
  ['a Symbol.iterator that is not a function', { [Symbol.iterator]: 5, a: '1' }],
  [
    'a pair that is an iterable function',
    [
      Object.assign(() => {}, {
        *[Symbol.iterator]() {
          yield 'x-a';
          yield '1';
        },
      }),
    ],
  ],
  [
    'Set-Cookie twice',
    [
      ['set-cookie', 'a'],
      ['Set-Cookie', 'b'],
      ['x', '1'],
    ],
  ],
  [
    'Cookie twice (joined with "; ", not ", ")',
    [
      ['cookie', 'a=1'],
      ['Cookie', 'b=2'],
    ],
  ],
  [
    'the same name in two cases',
    [
      ['x', '1'],
      ['X', '2'],
    ],
  ],
];

describe('headerListOf takes what new Headers() takes, and refuses what it refuses', () => {
  it.each(CASES)('%s', (_, init) => {
    const { ours, node } = both(init);
    expect(ours).toEqual(node);
  });

  // Stateful: each side gets an object of its own.
  const changing = (first: unknown[], then: unknown[]) => {
    let reads = 0;
    return {
      get [Symbol.iterator]() {
        const items = reads++ === 0 ? first : then;
        return () => items[Symbol.iterator]();
      },
    };
  };
  it.each([
    ['the headers', () => changing([['x-first', '1']], [['x-second', '2']])],
    ['a pair', () => [changing(['x-a', '1'], ['x-a', '1', 'extra'])]],
  ])('reads Symbol.iterator of %s once, as Headers does (a getter may answer differently)', (_, make) => {
    const ours = outcome(() => headerListOf(make()));
    expect(ours).toEqual(outcome(() => new Headers(make() as ConstructorParameters<typeof Headers>[0])));
    expect(ours).not.toHaveProperty('refused');
  });

  it('for any pairs of names and values', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('x-a', 'X-A', 'content-type', 'set-cookie', ' v ', '\tv', 'a\r\nb', 'é', '€', '', 'a b'),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 6 }), (pairs) => {
        const { ours, node } = both(pairs);
        expect(ours).toEqual(node);
        const record = Object.fromEntries(pairs);
        const asRecord = both(record);
        expect(asRecord.ours).toEqual(asRecord.node);
      }),
      { numRuns: 500 },
    );
  });
});

describe('HeaderList', () => {
  it('gets, sets, deletes and appends as Headers does, names in any case', () => {
    const ours = new HeaderList();
    const node = new Headers();
    for (const list of [ours, node]) {
      list.append('Accept', 'a');
      list.append('accept', ' b ');
      list.set('X-One', '1');
      list.append('x-two', '2');
      list.delete('X-TWO');
    }
    expect([...ours]).toEqual([...node]);
    expect(ours.get('ACCEPT')).toBe(node.get('ACCEPT'));
    expect(ours.get('missing')).toBeNull();
    expect(ours.has('x-one')).toBe(true);
    expect(ours.has('x-two')).toBe(false);
  });

  it('joins two Cookie values with "; " (", " would make one cookie of both)', () => {
    const list = new HeaderList();
    list.append('Cookie', 'a=1');
    list.append('cookie', 'b=2');
    list.append('X-A', '1');
    list.append('x-a', '2');
    expect(list.get('COOKIE')).toBe('a=1; b=2');
    expect([...list]).toEqual([
      ['cookie', 'a=1; b=2'],
      ['x-a', '1, 2'],
    ]);
  });

  it('a copy is its own list', () => {
    const first = new HeaderList();
    first.append('a', '1');
    const copy = new HeaderList(first);
    copy.append('a', '2');
    copy.set('b', '3');
    expect([...first]).toEqual([['a', '1']]);
    expect([...copy]).toEqual([
      ['a', '1, 2'],
      ['b', '3'],
    ]);
  });

  it('refuses a bad name or value on set and append', () => {
    const list = new HeaderList();
    expect(() => list.set('a b', 'x')).toThrow(TypeError);
    expect(() => list.append('a', 'x\r\ny: z')).toThrow(TypeError);
    expect([...list]).toEqual([]);
  });
});
