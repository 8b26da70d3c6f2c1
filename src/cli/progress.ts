/**
 * A one-line progress indicator on stderr for long walks of the keyspace: the line is redrawn in
 * place (`\r`, then erase to the end of the line) at most every 100 ms, and erased when done. Only
 * on a terminal: piped or redirected, stderr gets nothing, so logs and scripts stay clean.
 */

/** Redraws and clears the progress line. */
export interface Progress {
  /** Shows `text` (computed only when the line is due for a redraw). */
  update(text: () => string): void;
  /** Erases the line. */
  done(): void;
}

const EVERY_MS = 100;
const ERASE_LINE = '\r\x1b[K';

/** A progress line on `stream` if it is a terminal, else one that shows nothing. */
export function progressOn(stream: NodeJS.WriteStream): Progress {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < EVERY_MS) return;
      last = now;
      shown = true;
      stream.write(`${ERASE_LINE}${text().slice(0, (stream.columns || 80) - 1)}`);
    },
    done() {
      if (shown) stream.write(ERASE_LINE);
      shown = false;
    },
  };
}
