/**
 * A small tmpfs of its own, for tests that fill a disk. Mounting needs root (CI runs as root);
 * anywhere else `mountTmpfs` throws saying so, so such a test fails loudly instead of passing
 * without having run.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHUNK_BYTES = 1 << 20;

export class Tmpfs {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Bytes an unprivileged writer may still use. */
  freeBytes(): number {
    const stats = statfsSync(this.dir);
    return stats.bavail * stats.bsize;
  }

  /**
   * Writes a file that leaves about `leaveBytes` free; returns its path (delete it to free).
   * Stops early, without failing, if a router writing beside it fills the disk first.
   */
  fill(name: string, leaveBytes: number): string {
    const path = join(this.dir, name);
    const chunk = Buffer.alloc(CHUNK_BYTES);
    const fd = openSync(path, "w");
    try {
      for (let left = this.freeBytes() - leaveBytes; left > 0; left -= CHUNK_BYTES)
        writeSync(fd, chunk, 0, Math.min(CHUNK_BYTES, left));
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOSPC") throw error;
    } finally {
      closeSync(fd);
    }
    return path;
  }

  unmount(): void {
    execFileSync("umount", [this.dir], { stdio: "pipe" });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function mountTmpfs(sizeMiB: number): Tmpfs {
  if (process.getuid?.() !== 0)
    throw new Error(
      "this test mounts a tmpfs to fill a disk and must run as root (CI does); it cannot run as uid " +
        String(process.getuid?.()),
    );
  const dir = mkdtempSync(join(tmpdir(), "sy-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m`, "tmpfs", dir], {
      stdio: "pipe",
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(`cannot mount a tmpfs at ${dir}: ${stderr}`);
  }
  return new Tmpfs(dir);
}
