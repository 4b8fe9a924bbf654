/**
 * The longest the walk (and the plan before it) runs without letting the event loop turn. Small
 * files read synchronously and a consumer that takes every chunk at once would otherwise hold it
 * for the whole body; a turn every millisecond keeps timers and sockets served.
 */
const LOOP_SLICE_MS = 1;

/** One turn of the event loop: setImmediate where the runtime has it, else a timer. */
export const nextTurn = (): Promise<void> =>
  new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** Gives the event loop a turn once `sliceMs` (default LOOP_SLICE_MS) have passed since it last had one. */
export class LoopTurns {
  #since = performance.now();

  constructor(private readonly sliceMs = LOOP_SLICE_MS) {}

  /** Whether the loop is due a turn (reads the clock). */
  get due(): boolean {
    return performance.now() - this.#since >= this.sliceMs;
  }

  async turn(): Promise<void> {
    await nextTurn();
    this.#since = performance.now();
  }
}
