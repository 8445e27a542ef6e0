/** Where a progress line goes: stderr, so that stdout keeps only results. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * One line that shows what a long wait is at. On a terminal it is rewritten in place (`\r`, then the
 * line is cleared to its end) with a ticking suffix; elsewhere (a log, a pipe) a plain line is written
 * each time the text changes, and the suffix is left out so that the log does not fill with ticks.
 */
export class ProgressLine {
  private last?: string;
  private drawn = false;

  constructor(private readonly stream: ProgressStream) {}

  update(text: string, suffix = ''): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r${text}${suffix}\x1b[K`);
      this.drawn = true;
    } else if (text !== this.last) {
      this.stream.write(`${text}\n`);
    }
    this.last = text;
  }

  /** Ends the line on a terminal, so that what follows starts on a line of its own. */
  end(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
