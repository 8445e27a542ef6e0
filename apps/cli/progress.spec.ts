import { ProgressLine } from './progress';

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

describe(ProgressLine.name, () => {
  it('rewrites one line in place on a terminal, with its ticking suffix, and ends it', () => {
    const tty = stream(true);
    const sut = new ProgressLine(tty);
    sut.update('PENDING_APPROVAL', ' · 2s');
    sut.update('PENDING_APPROVAL', ' · 4s');
    sut.update('APPROVED', ' · 6s');
    sut.end();
    expect(tty.written).toEqual([
      '\rPENDING_APPROVAL · 2s\x1b[K',
      '\rPENDING_APPROVAL · 4s\x1b[K',
      '\rAPPROVED · 6s\x1b[K',
      '\n',
    ]);
  });

  it('writes a plain line per change elsewhere, without the ticks', () => {
    const pipe = stream(false);
    const sut = new ProgressLine(pipe);
    sut.update('PENDING_APPROVAL', ' · 2s');
    sut.update('PENDING_APPROVAL', ' · 4s');
    sut.update('APPROVED', ' · 6s');
    sut.end();
    expect(pipe.written).toEqual(['PENDING_APPROVAL\n', 'APPROVED\n']);
  });
});
