import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { StarRating } from "./StarRating";

describe("StarRating", () => {
  it("sends the clicked star's value, whole or half", async () => {
    const onRate = vi.fn();
    render(<StarRating value={null} onRate={onRate} />);
    expect(screen.getByText("Not rated")).toBeInTheDocument();
    await userEvent.click(screen.getByLabelText("4 stars"));
    expect(onRate).toHaveBeenLastCalledWith(4);
    await userEvent.click(screen.getByLabelText("3.5 stars"));
    expect(onRate).toHaveBeenLastCalledWith(3.5);
    expect(screen.getAllByRole("radio")).toHaveLength(10);
  });

  it("shows the current value as the checked radio", () => {
    render(<StarRating value={2.5} onRate={vi.fn()} />);
    expect(screen.getByLabelText("2.5 stars")).toBeChecked();
    expect(screen.getByLabelText("3 stars")).not.toBeChecked();
    expect(screen.getByText("2.5★ of 5")).toBeInTheDocument();
  });

  it("rates from the keyboard in half stars with the arrow keys", async () => {
    const onRate = vi.fn();
    render(<StarRating value={2} onRate={onRate} />);
    screen.getByLabelText("2 stars").focus();
    await userEvent.keyboard("{ArrowRight}");
    expect(onRate).toHaveBeenLastCalledWith(2.5);
  });

  it("offers Clear rating only when there is a rating to clear", async () => {
    const onClear = vi.fn();
    const { rerender } = render(<StarRating value={null} onRate={vi.fn()} onClear={onClear} />);
    expect(screen.queryByRole("button", { name: "Clear rating" })).toBeNull();
    rerender(<StarRating value={4} onRate={vi.fn()} onClear={onClear} />);
    await userEvent.click(screen.getByRole("button", { name: "Clear rating" }));
    expect(onClear).toHaveBeenCalledOnce();
  });

  it("does nothing while disabled", async () => {
    const onRate = vi.fn();
    render(<StarRating value={null} onRate={onRate} disabled />);
    await userEvent.click(screen.getByLabelText("5 stars"));
    expect(onRate).not.toHaveBeenCalled();
  });
});
