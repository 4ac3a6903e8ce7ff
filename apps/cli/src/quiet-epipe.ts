/**
 * `forgehand doctor | head -1`: once the reader has gone, further writes fail with EPIPE. Like any
 * well-kept CLI, end quietly then (exit 0, no stack trace) instead of crashing on the unhandled
 * stream error; any other stream error is still thrown.
 */
export function endQuietlyOnEpipe(streams: NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams)
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(0);
      throw error;
    });
}
