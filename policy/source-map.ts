import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import type { PolicyIssue } from './errors';

export type KeyPath = ReadonlyArray<string | number>;

/** `['flows', 0, 'approval']` -> `flows[0].approval`. */
export function formatPath(path: KeyPath): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/** `/flows/0/approval` (a JSON pointer, as ajv reports it) -> `['flows', 0, 'approval']`. */
export function pointerToPath(pointer: string): Array<string | number> {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/**
 * Turns key paths into file positions. A path ending in a map key points at the key (where a reader
 * looks for `threshold:`); a path ending in a list index points at the element. A path that goes
 * further than the document (a missing key) points at the deepest node that exists.
 */
export class SourceMap {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  issue(path: KeyPath, message: string): PolicyIssue {
    const { line, col } = this.lines.linePos(this.offsetOf(path));
    return { file: this.file, line, column: col, path: formatPath(path), message };
  }

  private offsetOf(path: KeyPath): number {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const part of path) {
      if (isMap(node)) {
        const pair = node.items.find((item: Pair) => keyOf(item) === String(part));
        if (!pair) break;
        offset = rangeStart(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof part === 'number' && part < node.items.length) {
        node = node.items[part];
        offset = rangeStart(isPair(node) ? node.key : node) ?? offset;
      } else {
        break;
      }
    }
    return offset;
  }
}

function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
