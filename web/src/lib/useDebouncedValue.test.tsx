import { act, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { useDebouncedValue } from "./useDebouncedValue";

describe("useDebouncedValue", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("updates only after the value has been still for the delay", () => {
    const { result, rerender } = renderHook(({ value }) => useDebouncedValue(value, 300), {
      initialProps: { value: "r" },
    });
    expect(result.current).toBe("r");
    rerender({ value: "ro" });
    act(() => {
      vi.advanceTimersByTime(200);
    });
    rerender({ value: "rob" });
    act(() => {
      vi.advanceTimersByTime(200);
    });
    // 400 ms since the first change but only 200 ms since the last: still the old value
    expect(result.current).toBe("r");
    act(() => {
      vi.advanceTimersByTime(100);
    });
    expect(result.current).toBe("rob");
  });
});
