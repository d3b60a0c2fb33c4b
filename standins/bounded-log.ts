/**
 * A fixed-size log that forgets its oldest entries, so a long dev run or a
 * benchmark of many thousand pushes keeps the stand-ins' memory bounded.
 */

/** Keeps the last `capacity` entries, oldest first when iterated. */
export class BoundedLog<T> implements Iterable<T> {
  #items: T[] = [];
  #start = 0;
  #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  push(item: T): void {
    if (this.#items.length < this.#capacity) {
      this.#items.push(item);
      return;
    }
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.#capacity;
  }

  *[Symbol.iterator](): Iterator<T> {
    const count = this.#items.length;
    for (let i = 0; i < count; i++) yield this.#items[(this.#start + i) % count] as T;
  }

  clear(): void {
    this.#items = [];
    this.#start = 0;
  }
}
