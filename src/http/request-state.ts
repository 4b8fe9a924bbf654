import type { IncomingMessage } from 'node:http';

/**
 * What one request has come to: an answer, a failure, or neither yet. The body writer stops as
 * soon as either arrives: whatever it waits for (a `100 Continue`, room in the socket) is cut short.
 */
export class RequestState {
  response: IncomingMessage | undefined;
  failure: Error | undefined;
  /** A caller's callback threw: this fails the upload even when an answer came first. */
  callbackFailure: Error | undefined;
  #wake: (() => void) | undefined;

  /** True once the request has an answer or has failed: nothing more is sent. */
  get settled(): boolean {
    return this.response !== undefined || this.failure !== undefined;
  }

  answered(response: IncomingMessage): void {
    this.response = response;
    this.#wake?.();
  }

  failed(error: Error): void {
    this.failure = error;
    this.#wake?.();
  }

  /** Waits for the event `listen` subscribes to (it returns how to unsubscribe), or until the request settles. */
  until(listen: (wake: () => void) => () => void): Promise<void> {
    if (this.settled) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let woken = false;
      let unlisten = () => {};
      const wake = () => {
        if (woken) return;
        woken = true;
        unlisten();
        this.#wake = undefined;
        resolve();
      };
      this.#wake = wake;
      unlisten = listen(wake);
      if (woken) unlisten(); // woken while subscribing
    });
  }
}
