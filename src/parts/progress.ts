/**
 * Progress across pieces: per lane (a sequence of pieces sent in order), the bytes the server
 * confirmed and the bytes of its piece in flight. A piece that fails drops back to what was
 * confirmed, so the total never goes back by more than one piece per failed lane.
 */
export class Progress {
  readonly #total: number;
  readonly #report: (loaded: number, total: number) => void;
  readonly #confirmed = new Map<number, number>();
  readonly #inFlight = new Map<number, number>();
  #sum = 0;
  #last = -1;

  constructor(total: number, report: (loaded: number, total: number) => void) {
    this.#total = total;
    this.#report = report;
  }

  get loaded(): number {
    return this.#sum;
  }

  /** The lane's bytes the server holds; its piece in flight is done with. */
  confirm(lane: number, bytes: number): void {
    this.#set(this.#confirmed, lane, bytes);
    this.#set(this.#inFlight, lane, 0);
    this.emit();
  }

  /** Bytes of the lane's current piece handed to the socket (0 when it starts again). */
  sending(lane: number, bytes: number): void {
    this.#set(this.#inFlight, lane, bytes);
    this.emit();
  }

  emit(): void {
    if (this.#sum === this.#last) return;
    this.#last = this.#sum;
    this.#report(this.#sum, this.#total);
  }

  #set(map: Map<number, number>, lane: number, bytes: number): void {
    this.#sum += bytes - (map.get(lane) ?? 0);
    if (bytes === 0) map.delete(lane);
    else map.set(lane, bytes);
  }
}
