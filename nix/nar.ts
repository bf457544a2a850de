// A streaming NAR parser, as strict as Nix: magic, exact tokens, zero padding, sorted unique entry
// names, declared sizes honoured, nothing after the root node. Push-based: write() any chunking;
// file contents pass straight through to the visitor as views, never copied or buffered.
import { printable } from './printable.ts';
import { VendorscanError } from '../errors/errors.ts';

/** A name from the NAR as it appears in an error: escaped, at most 80 characters. */
const shown = (s: string): string => printable(s, 80);

export interface NarVisitor {
  directory?(path: string): void;
  symlink?(path: string, target: string): void;
  fileStart(path: string, size: number, executable: boolean): void;
  /** A view valid only during the call. */
  fileData(chunk: Uint8Array): void;
  fileEnd(): void;
}

export class NarFormatError extends VendorscanError {
  readonly offset: number;
  constructor(
    message: string,
    offset: number,
  ) {
    super('VS_NAR_FORMAT', 'input', `${message} (at NAR byte ${offset})`);
    this.offset = offset;
  }
}

export interface NarParserOptions {
  maxNameLength?: number;
  maxDepth?: number;
}

const MAGIC = 'nix-archive-1';
const MAX_TOKEN = 64;
const MAX_TARGET = 4096;

type Request = { kind: 'bytes'; n: number } | { kind: 'contents'; size: number };
type Grammar = Generator<Request, void, Uint8Array>;

const pad = (n: number): number => (8 - (n % 8)) % 8;
const utf8 = new TextDecoder('utf-8');

export class NarParser {
  private readonly grammar: Grammar;
  private request: Request | null;
  private offset = 0;
  /** Where the bytes just handed to the grammar started, for error messages. */
  private deliveredAt = 0;
  private acc = new Uint8Array(64);
  private accLength = 0;
  private remaining = 0;
  private readonly maxNameLength: number;
  private readonly maxDepth: number;

  private readonly visitor: NarVisitor;
  constructor(
    visitor: NarVisitor,
    options: NarParserOptions = {},
  ) {
    this.visitor = visitor;
    this.maxNameLength = options.maxNameLength ?? 255;
    this.maxDepth = options.maxDepth ?? 256;
    this.grammar = this.archive();
    this.request = this.step(undefined);
  }

  get bytesRead(): number {
    return this.offset;
  }

  write(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      const req = this.request;
      if (req === null) throw new NarFormatError('trailing data after the end of the archive', this.offset);
      if (req.kind === 'contents') {
        const take = Math.min(this.remaining, chunk.length - pos);
        if (take > 0) this.visitor.fileData(chunk.subarray(pos, pos + take));
        pos += take;
        this.offset += take;
        this.remaining -= take;
        if (this.remaining === 0) this.request = this.step(new Uint8Array(0));
        continue;
      }
      // Fast path: the whole request sits in this chunk; hand out a view.
      if (this.accLength === 0 && chunk.length - pos >= req.n) {
        const view = chunk.subarray(pos, pos + req.n);
        this.deliveredAt = this.offset;
        pos += req.n;
        this.offset += req.n;
        this.request = this.step(view);
        continue;
      }
      const take = Math.min(req.n - this.accLength, chunk.length - pos);
      this.acc.set(chunk.subarray(pos, pos + take), this.accLength);
      this.accLength += take;
      pos += take;
      this.offset += take;
      if (this.accLength === req.n) {
        const whole = this.acc.subarray(0, req.n);
        this.deliveredAt = this.offset - req.n;
        this.accLength = 0;
        this.request = this.step(whole);
      }
    }
  }

  end(): void {
    if (this.request !== null) {
      const what = this.request.kind === 'contents' ? `${this.remaining} more bytes of file contents` : 'more data';
      throw new NarFormatError(`NAR is truncated: expected ${what}`, this.offset);
    }
  }

  private step(value: Uint8Array | undefined): Request | null {
    const r = this.grammar.next(value as Uint8Array);
    if (r.done) return null;
    const req = r.value;
    if (req.kind === 'contents') {
      this.remaining = req.size;
      if (req.size === 0) return this.step(new Uint8Array(0));
    } else if (req.n > this.acc.length) {
      this.acc = new Uint8Array(req.n);
    } else if (req.n === 0) {
      return this.step(new Uint8Array(0));
    }
    return req;
  }

  private fail(message: string, offset = this.deliveredAt): never {
    throw new NarFormatError(message, offset);
  }

  private *u64(what: string): Generator<Request, number, Uint8Array> {
    const b = yield { kind: 'bytes', n: 8 };
    const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
    const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16)) + b[7]! * 0x1000000;
    if (hi >= 0x200000) this.fail(`${what} is too large`);
    return hi * 0x100000000 + lo;
  }

  private *padding(n: number, what: string): Generator<Request, void, Uint8Array> {
    if (pad(n) === 0) return;
    const p = yield { kind: 'bytes', n: pad(n) };
    for (let i = 0; i < p.length; i++) if (p[i] !== 0) this.fail(`non-zero padding after ${what}`);
  }

  /** A length-prefixed, padded string of at most `max` bytes, copied out. */
  private *bytes(max: number, what: string): Generator<Request, Uint8Array, Uint8Array> {
    const start = this.offset;
    const n = yield* this.u64(`length of ${what}`);
    if (n > max) this.fail(`${what} is ${n} bytes long, more than the ${max} allowed`, start);
    const data = n === 0 ? new Uint8Array(0) : (yield { kind: 'bytes', n }).slice();
    yield* this.padding(n, what);
    return data;
  }

  private *token(): Generator<Request, string, Uint8Array> {
    return utf8.decode(yield* this.bytes(MAX_TOKEN, 'token'));
  }

  private *expect(expected: string, context: string): Generator<Request, void, Uint8Array> {
    const start = this.offset;
    const got = yield* this.token();
    if (got !== expected) this.fail(`expected "${expected}" ${context}, found "${shown(got)}"`, start);
  }

  private *archive(): Grammar {
    const start = this.offset;
    const magic = yield* this.bytes(MAX_TOKEN, 'magic');
    if (utf8.decode(magic) !== MAGIC) this.fail(`not a NAR: bad magic "${shown(utf8.decode(magic))}"`, start);
    yield* this.node('', 0);
  }

  private *node(path: string, depth: number): Grammar {
    const where = path === '' ? 'the root' : `"${path}"`;
    if (depth > this.maxDepth) this.fail(`${where} is nested deeper than ${this.maxDepth} directories`);
    yield* this.expect('(', `to open ${where}`);
    yield* this.expect('type', `in ${where}`);
    const typeAt = this.offset;
    const type = yield* this.token();
    if (type === 'regular') {
      let executable = false;
      let next = yield* this.token();
      if (next === 'executable') {
        executable = true;
        const markerAt = this.offset;
        if ((yield* this.token()) !== '') this.fail(`executable marker of ${where} is not empty`, markerAt);
        next = yield* this.token();
      }
      if (next !== 'contents') this.fail(`expected "contents" in ${where}, found "${shown(next)}"`);
      const size = yield* this.u64(`size of ${where}`);
      this.visitor.fileStart(path, size, executable);
      yield { kind: 'contents', size };
      this.visitor.fileEnd();
      yield* this.padding(size, `the contents of ${where}`);
    } else if (type === 'symlink') {
      yield* this.expect('target', `in symlink ${where}`);
      const targetAt = this.offset;
      const target = yield* this.bytes(MAX_TARGET, `symlink target of ${where}`);
      if (target.length === 0) this.fail(`symlink ${where} has an empty target`, targetAt);
      if (target.includes(0)) this.fail(`symlink target of ${where} contains NUL`, targetAt);
      this.visitor.symlink?.(path, utf8.decode(target));
    } else if (type === 'directory') {
      this.visitor.directory?.(path);
      let previous: Uint8Array | null = null;
      for (;;) {
        const tokenAt = this.offset;
        const t = yield* this.token();
        if (t === ')') return;
        if (t !== 'entry') this.fail(`expected "entry" or ")" in directory ${where}, found "${shown(t)}"`, tokenAt);
        yield* this.expect('(', `to open an entry of ${where}`);
        yield* this.expect('name', `in an entry of ${where}`);
        const nameAt = this.offset;
        const name = yield* this.bytes(this.maxNameLength, `entry name in ${where}`);
        const nameText = utf8.decode(name);
        if (name.length === 0) this.fail(`empty entry name in ${where}`, nameAt);
        if (nameText === '.' || nameText === '..') this.fail(`entry name "${nameText}" in ${where}`, nameAt);
        if (name.includes(0x2f)) this.fail(`entry name "${shown(nameText)}" in ${where} contains "/"`, nameAt);
        if (name.includes(0)) this.fail(`entry name "${shown(nameText)}" in ${where} contains NUL`, nameAt);
        if (previous !== null) {
          const order = Buffer.compare(previous, name);
          if (order === 0) this.fail(`duplicate entry name "${shown(nameText)}" in ${where}`, nameAt);
          if (order > 0) this.fail(`entry "${shown(nameText)}" in ${where} is out of order (after "${shown(utf8.decode(previous))}")`, nameAt);
        }
        previous = name;
        yield* this.expect('node', `in entry "${shown(nameText)}" of ${where}`);
        yield* this.node(path === '' ? nameText : `${path}/${nameText}`, depth + 1);
        yield* this.expect(')', `to close entry "${shown(nameText)}" of ${where}`);
      }
    } else {
      this.fail(`unknown node type "${shown(type)}" for ${where}`, typeAt);
    }
    yield* this.expect(')', `to close ${where}`);
  }
}
