/**
 * The longest the walk (and the plan before it) runs without letting the event loop turn. Small
 * files read synchronously and a consumer that takes every chunk at once would otherwise hold it
 * for the whole body; a turn every millisecond keeps timers and sockets served.
 */
const LOOP_SLICE_MS = 1;

/** Gives the event loop a turn once LOOP_SLICE_MS have passed since it last had one. */
export class LoopTurns {
  #since = performance.now();

  /** Whether the loop is due a turn (reads the clock). */
  get due(): boolean {
    return performance.now() - this.#since >= LOOP_SLICE_MS;
  }

  async turn(): Promise<void> {
    await new Promise(setImmediate);
    this.#since = performance.now();
  }
}
