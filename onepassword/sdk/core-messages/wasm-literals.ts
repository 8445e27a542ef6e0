/**
 * Reads the string literals a WebAssembly module's functions use, and which functions use each.
 *
 * Rust (which the 1Password SDK core is written in) stores its string literals back to back, with no
 * separator, so the data section alone cannot say where one message ends. The code can: a literal is
 * passed as a pointer and a length (`i32.const ptr; i32.const len`), and a literal with placeholders
 * is a table of (ptr, len) pieces in the data section whose address the code loads. Both are read
 * here, and the name section (which the SDK ships) names the function that uses each literal.
 */

/** A literal and the (demangled, hash-free) names of the functions that use it. */
export interface WasmLiteral {
  text: string;
  functions: string[];
}

interface Module {
  importedFunctions: number;
  functionNames: Map<number, string>;
  bodies: Array<{ start: number; end: number }>;
  segments: Array<{ address: number; bytes: Uint8Array }>;
}

const SECTION = { custom: 0, import: 2, code: 10, data: 11 } as const;
const OP_I32_CONST = 0x41;
const OP_END = 0x0b;
/** Longer "literals" are data that happens to be printable; no message is this long. */
const MAX_LITERAL_LENGTH = 400;

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}

  byte(): number {
    return this.bytes[this.at++];
  }

  /** LEB128, as WebAssembly encodes integers. */
  unsigned(): number {
    return this.leb128(false);
  }

  signed(): number {
    return this.leb128(true);
  }

  private leb128(signed: boolean): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return signed && byte & 0x40 ? result - 2 ** shift : result;
    }
  }

  name(): string {
    const length = this.unsigned();
    const text = Buffer.from(this.bytes.subarray(this.at, this.at + length)).toString('utf8');
    this.at += length;
    return text;
  }
}

function parseModule(bytes: Uint8Array): Module {
  const module: Module = { importedFunctions: 0, functionNames: new Map(), bodies: [], segments: [] };
  const reader = new Reader(bytes, 8); // after the magic number and the version
  while (reader.at < bytes.length) {
    const id = reader.byte();
    const size = reader.unsigned();
    const end = reader.at + size;
    const section = new Reader(bytes, reader.at);
    if (id === SECTION.import) readImports(section, module);
    if (id === SECTION.code) readBodies(section, module);
    if (id === SECTION.data) readSegments(section, module);
    if (id === SECTION.custom && section.name() === 'name') readFunctionNames(section, end, module);
    reader.at = end;
  }
  return module;
}

function readImports(reader: Reader, module: Module): void {
  for (let count = reader.unsigned(); count > 0; count--) {
    reader.name();
    reader.name();
    const kind = reader.byte();
    if (kind === 0) {
      module.importedFunctions++;
      reader.unsigned();
    } else if (kind === 1) {
      reader.byte();
      skipLimits(reader);
    } else if (kind === 2) {
      skipLimits(reader);
    } else {
      reader.at += 2; // global: value type and mutability
    }
  }
}

function skipLimits(reader: Reader): void {
  const flags = reader.unsigned();
  reader.unsigned();
  if (flags & 1) reader.unsigned();
}

function readBodies(reader: Reader, module: Module): void {
  for (let count = reader.unsigned(); count > 0; count--) {
    const size = reader.unsigned();
    module.bodies.push({ start: reader.at, end: reader.at + size });
    reader.at += size;
  }
}

function readSegments(reader: Reader, module: Module): void {
  for (let count = reader.unsigned(); count > 0; count--) {
    const flags = reader.unsigned();
    if (flags !== 0) throw new Error(`unsupported data segment kind ${flags}: expected an active segment of memory 0`);
    if (reader.byte() !== OP_I32_CONST) throw new Error('unsupported data segment offset: expected i32.const');
    const address = reader.signed();
    if (reader.byte() !== OP_END) throw new Error('unsupported data segment offset expression');
    const length = reader.unsigned();
    module.segments.push({ address, bytes: reader.bytes.subarray(reader.at, reader.at + length) });
    reader.at += length;
  }
}

function readFunctionNames(reader: Reader, end: number, module: Module): void {
  while (reader.at < end) {
    const subsection = reader.byte();
    const size = reader.unsigned();
    const next = reader.at + size;
    if (subsection === 1) {
      for (let count = reader.unsigned(); count > 0; count--) {
        const index = reader.unsigned();
        // Rust's mangling hash (`::h0123456789abcdef`) differs per monomorphisation; the name is what matters.
        module.functionNames.set(index, reader.name().replace(/::h[0-9a-f]{16}$/, ''));
      }
    }
    reader.at = next;
  }
}

/** Reads `length` bytes of memory at `address` as printable ASCII, or undefined when they are not. */
function textAt(module: Module, address: number, length: number): string | undefined {
  for (const segment of module.segments) {
    const offset = address - segment.address;
    if (offset < 0 || offset + length > segment.bytes.length) continue;
    const bytes = segment.bytes.subarray(offset, offset + length);
    for (const byte of bytes) if (byte < 0x20 || byte > 0x7e) return undefined;
    return Buffer.from(bytes).toString('latin1');
  }
  return undefined;
}

function inData(module: Module, address: number): boolean {
  return module.segments.some(
    (segment) => address >= segment.address && address < segment.address + segment.bytes.length,
  );
}

/** Every literal the module's code uses, with the functions using it. */
export function wasmLiterals(bytes: Uint8Array): WasmLiteral[] {
  const module = parseModule(bytes);
  const users = new Map<string, Set<string>>();
  const use = (text: string, fn: string) => {
    let set = users.get(text);
    if (!set) users.set(text, (set = new Set()));
    set.add(fn);
  };
  // Addresses each function loads: a table of pieces is used by whoever loads its first entry.
  const loaders = new Map<number, Set<string>>();

  module.bodies.forEach((body, index) => {
    const fn = module.functionNames.get(module.importedFunctions + index) ?? `function ${index}`;
    const reader = new Reader(bytes);
    for (let at = body.start; at < body.end - 1; at++) {
      if (bytes[at] !== OP_I32_CONST) continue;
      reader.at = at + 1;
      const value = reader.signed();
      if (!inData(module, value)) continue;
      let set = loaders.get(value);
      if (!set) loaders.set(value, (set = new Set()));
      set.add(fn);
      // `i32.const ptr` directly followed by `i32.const len`.
      if (bytes[reader.at] !== OP_I32_CONST) continue;
      reader.at++;
      const length = reader.signed();
      const text = length > 0 && length <= MAX_LITERAL_LENGTH ? textAt(module, value, length) : undefined;
      if (text !== undefined) use(text, fn);
    }
  });

  for (const segment of module.segments) {
    const view = new DataView(segment.bytes.buffer, segment.bytes.byteOffset, segment.bytes.byteLength);
    const pieces = new Map<number, string>();
    for (let offset = 0; offset + 8 <= segment.bytes.length; offset += 4) {
      const length = view.getUint32(offset + 4, true);
      if (length === 0 || length > MAX_LITERAL_LENGTH) continue;
      const text = textAt(module, view.getUint32(offset, true), length);
      if (text !== undefined) pieces.set(segment.address + offset, text);
    }
    for (const [address, text] of pieces) {
      let first = address;
      while (pieces.has(first - 8)) first -= 8;
      for (const fn of new Set([...(loaders.get(first) ?? []), ...(loaders.get(address) ?? [])])) use(text, fn);
    }
  }

  return [...users].map(([text, functions]) => ({ text, functions: [...functions].sort() }));
}
