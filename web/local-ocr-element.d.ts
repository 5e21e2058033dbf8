// Types of local-ocr-element.js: the <local-ocr> element (its comment at the top describes it).

import type { ImageInput, LocalOCRError, Page, RuntimeInfo } from "./localocr.js";

export class LocalOCRElement extends HTMLElement {
  /** the last page read, or null */
  readonly result: Page | null;
  /** reads an image (anything read() takes), as a drop would; also sent as a `result` or `error` event */
  read(image: ImageInput): Promise<Page>;
  addEventListener<K extends keyof LocalOCRElementEventMap>(type: K,
    listener: (this: LocalOCRElement, event: LocalOCRElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions): void;
}

/** Its events bubble and are composed; `error`'s detail is {message, code}, not an ErrorEvent. */
export interface LocalOCRElementEventMap extends Omit<HTMLElementEventMap, "error"> {
  ready: CustomEvent<RuntimeInfo>;
  result: CustomEvent<Page>;
  error: CustomEvent<Pick<LocalOCRError, "message" | "code">>;
}

declare global {
  interface HTMLElementTagNameMap {
    "local-ocr": LocalOCRElement;
  }
}
