import * as fs from 'node:fs';

/** At most this many bytes are read per tick, so a pod that floods its log cannot stall Grid. */
export const FOLLOW_CHUNK = 64 * 1024;

/**
 * Reads what was appended to a log file since the last call, as whole lines. The file may be
 * rotated (rotateLog: copied to `<file>.1`, the older copies shifted to `.2`, …, then truncated in
 * place); `rotations` counts the rotations done so far. After k of them the lines not yet read
 * are in `.k` from the old offset on, then in `.k-1` … `.1`, then in the new file from its start:
 * the follower reads them in that order, so no line written around a rotation is skipped or
 * repeated, even when the new file has already grown past the old offset. Copies already dropped
 * (more rotations between two reads than files kept, or one file kept and only truncated) are
 * skipped: the follower goes on at the start of the oldest file left.
 */
export class LogFollower {
  private partial = '';
  /** Rotated copies still to read, oldest first; `offset` applies to the first. */
  private backlog: string[] = [];
  private seen: number;

  constructor(
    private readonly file: string,
    private offset: number,
    private readonly rotations: () => number = () => 0,
  ) {
    this.seen = rotations();
  }

  /** Starts at the file's current end. */
  static atEnd(file: string, rotations?: () => number): LogFollower {
    return new LogFollower(file, fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0, rotations);
  }

  read(): string[] {
    const now = this.rotations();
    if (now !== this.seen) {
      const k = now - this.seen;
      this.seen = now;
      this.backlog = Array.from({ length: k }, (_, i) => `${this.file}.${k - i}`);
      if (!fs.existsSync(this.backlog[0])) this.skipGone();
    }
    const lines: string[] = [];
    while (this.backlog.length > 0) {
      const from = this.readFrom(this.backlog[0]);
      lines.push(...from.lines);
      if (!from.atEnd) return lines;
      this.backlog.shift();
      this.offset = 0;
    }
    return lines.concat(this.readFrom(this.file).lines);
  }

  /** The oldest copies were dropped before they were read: go on at the start of the oldest one left. */
  private skipGone(): void {
    this.backlog = this.backlog.filter((f) => fs.existsSync(f));
    this.offset = 0;
    this.partial = '';
  }

  private readFrom(file: string): { lines: string[]; atEnd: boolean } {
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'r');
      const size = fs.fstatSync(fd).size;
      // Truncated with no copy (one log file kept): what is there now is new.
      if (size < this.offset) {
        this.offset = 0;
        this.partial = '';
      }
      const n = Math.min(size - this.offset, FOLLOW_CHUNK);
      if (n <= 0) return { lines: [], atEnd: true };
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
      return { lines, atEnd: this.offset >= size };
    } catch {
      return { lines: [], atEnd: true };
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
}
