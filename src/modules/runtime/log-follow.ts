import * as fs from 'node:fs';

/** At most this many bytes are read per call, so a pod that floods its log cannot stall Grid. */
export const FOLLOW_CHUNK = 16 * 1024;

/**
 * A pod's log rotations as a follower needs them. Generation g is what the live file held between
 * rotation g and rotation g+1; the live file holds generation `done`, and the copy `<file>.i` holds
 * generation `shifted - i` (while a rotation copies, its renames are done and its truncate is not:
 * `shifted` is `done + 1`, and the new `.1` is not read yet because the live file still has it all).
 */
export interface RotationState {
  readonly done: number;
  readonly shifted: number;
  /** Copies kept (`.1` … `.kept`). */
  readonly kept: number;
  /** Where generation g began, in bytes of the pod's output since Grid started; undefined once no copy of it is kept. */
  startOf(g: number): number | undefined;
}

/** The rotation state the driver keeps per pod; rotateLog moves it along in the same turns as it renames and truncates. */
export class RotationLog implements RotationState {
  done = 0;
  shifted = 0;
  /** Start of generations done - kept - 1 … done, oldest first: enough for any generation whose copy can still exist. */
  private readonly starts: number[] = [0];

  constructor(readonly kept: number) {}

  /** The copies were renamed one up: `.1` is about to be written. */
  shift(): void {
    this.shifted++;
  }

  /** The live file was truncated after holding `liveBytes` bytes of the generation that ends now. */
  finish(liveBytes: number): void {
    this.done++;
    this.shifted = this.done;
    this.starts.push(this.starts[this.starts.length - 1] + liveBytes);
    if (this.starts.length > this.kept + 2) this.starts.shift();
  }

  startOf(g: number): number | undefined {
    const i = g - (this.done - this.starts.length + 1);
    return i >= 0 && i < this.starts.length ? this.starts[i] : undefined;
  }
}

const NO_ROTATIONS: RotationState = { done: 0, shifted: 0, kept: 0, startOf: (g) => (g === 0 ? 0 : undefined) };

export interface FollowRead {
  /** Whole lines, oldest first. */
  lines: string[];
  /** Bytes of the pod's output this follower will never see: rotated away (copies dropped) before it read them. */
  skipped: number;
  /** Bytes taken from the files by this call (at most FOLLOW_CHUNK); 0 when the follower is at the end. */
  bytes: number;
}

/**
 * Reads what was appended to a log file since the last call, as whole lines, at most FOLLOW_CHUNK
 * bytes a call. The file may be rotated (rotateLog: copied to `<file>.1`, the older copies shifted
 * to `.2`, …, then truncated in place). The follower keeps the generation it reads (see
 * RotationState) and its offset in it: lines not yet read when a rotation happens are read from the
 * copy, then the next copies, then the new file from its start, so no line written around a
 * rotation is skipped or repeated, even when the new file has already grown past the old offset.
 * A copy is a prefix of its generation (a rotation that could not keep up ends the copy with a
 * `[grid: N bytes dropped …]` line instead of the rest), so an offset means the same in both.
 * Generations whose copies were dropped (more rotations between two reads than copies kept) are
 * skipped, and the bytes lost are reported in `skipped`.
 */
export class LogFollower {
  private partial = '';
  private gen: number;
  /** Where this follower is, in bytes of the pod's output since Grid started (RotationState.startOf's scale). */
  private at: number;

  constructor(
    private readonly file: string,
    private offset: number,
    private readonly rotations: () => RotationState = () => NO_ROTATIONS,
  ) {
    const r = rotations();
    this.gen = r.done;
    this.at = (r.startOf(r.done) ?? 0) + offset;
  }

  /** Starts at the file's current end. */
  static atEnd(file: string, rotations?: () => RotationState): LogFollower {
    return new LogFollower(file, fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0, rotations);
  }

  read(): FollowRead {
    const r = this.rotations();
    let skipped = 0;
    while (this.gen < r.done) {
      const index = r.shifted - this.gen;
      const copy = `${this.file}.${index}`;
      if (index > r.kept || !fs.existsSync(copy)) {
        skipped += this.skipGone(r);
        continue;
      }
      const got = this.readFrom(copy, true);
      if (got.bytes > 0) return { ...got, skipped };
      // The copy is read to its end. Past it (the follower read further in the live file than the
      // copy reaches) the rest of the generation is lost.
      skipped += this.next(r, got.size < this.offset);
    }
    return { ...this.readFrom(this.file, false), skipped };
  }

  /** Moves on to the next generation; returns the bytes lost if `lost` (counted in `at`'s scale). */
  private next(r: RotationState, lost: boolean): number {
    this.gen++;
    this.offset = 0;
    const start = r.startOf(this.gen) ?? this.at;
    const skipped = lost ? Math.max(0, start - this.at) + this.dropPartial() : 0;
    this.at = start;
    return skipped;
  }

  /** The copy of this generation is gone: go on at the oldest generation whose copy is left (or the live file). */
  private skipGone(r: RotationState): number {
    let to = this.gen + 1;
    while (to < r.done && (r.shifted - to > r.kept || !fs.existsSync(`${this.file}.${r.shifted - to}`))) to++;
    const start = r.startOf(to);
    const skipped = (start !== undefined ? Math.max(0, start - this.at) : 0) + this.dropPartial();
    this.gen = to;
    this.offset = 0;
    this.at = start ?? this.at;
    return skipped;
  }

  private dropPartial(): number {
    const n = Buffer.byteLength(this.partial);
    this.partial = '';
    return n;
  }

  private readFrom(file: string, isCopy: boolean): { lines: string[]; bytes: number; size: number } {
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'r');
      const size = fs.fstatSync(fd).size;
      // The live file truncated with no rotation counted (not by Grid): what is there now is new.
      if (!isCopy && size < this.offset) {
        this.offset = 0;
        this.partial = '';
      }
      const n = Math.min(size - this.offset, FOLLOW_CHUNK);
      if (n <= 0) return { lines: [], bytes: 0, size };
      const buf = Buffer.alloc(n);
      fs.readSync(fd, buf, 0, n, this.offset);
      this.offset += n;
      this.at += n;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      // A line longer than a chunk is passed on in pieces rather than held forever.
      if (this.partial.length > FOLLOW_CHUNK) {
        lines.push(this.partial);
        this.partial = '';
      }
      return { lines, bytes: n, size };
    } catch {
      return { lines: [], bytes: 0, size: 0 };
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
}
