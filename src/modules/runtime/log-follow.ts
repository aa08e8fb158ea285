import * as fs from 'node:fs';

/** At most this many bytes are read per tick, so a pod that floods its log cannot stall Grid. */
export const FOLLOW_CHUNK = 64 * 1024;

/**
 * Reads what was appended to a log file since the last call, as whole lines. The file may be
 * truncated in place (capLog): then reading starts again from its new beginning.
 */
export class LogFollower {
  private partial = '';

  constructor(
    private readonly file: string,
    private offset: number,
  ) {}

  /** Starts at the file's current end. */
  static atEnd(file: string): LogFollower {
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      // Not written yet: follow from the start once it is.
    }
    return new LogFollower(file, size);
  }

  read(): string[] {
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.file, 'r');
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = 0;
        this.partial = '';
      }
      const n = Math.min(size - this.offset, FOLLOW_CHUNK);
      if (n <= 0) return [];
      const buf = Buffer.alloc(n);
      fs.readSync(fd, buf, 0, n, this.offset);
      this.offset += n;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      // A line longer than a chunk is passed on in pieces rather than held forever.
      if (this.partial.length > FOLLOW_CHUNK) {
        lines.push(this.partial);
        this.partial = '';
      }
      return lines;
    } catch {
      return [];
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
}
