import "@testing-library/jest-dom/vitest";

import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => {
  cleanup();
});

// jsdom does not scroll; the layout scrolls each new page to its top.
window.scrollTo = () => undefined;
