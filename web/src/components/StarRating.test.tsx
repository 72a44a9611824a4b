import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { StarRating } from "./StarRating";

describe("StarRating", () => {
  it("sends the clicked star's value", async () => {
    const onRate = vi.fn();
    render(<StarRating value={null} onRate={onRate} />);
    expect(screen.getByText("Not rated")).toBeInTheDocument();
    await userEvent.click(screen.getByLabelText("4 stars"));
    expect(onRate).toHaveBeenCalledWith(4);
  });

  it("shows the current value as the checked radio", () => {
    render(<StarRating value={3} onRate={vi.fn()} />);
    expect(screen.getByLabelText("3 stars")).toBeChecked();
    expect(screen.getByLabelText("4 stars")).not.toBeChecked();
    expect(screen.getByText("3 / 5")).toBeInTheDocument();
  });

  it("rates from the keyboard with the arrow keys", async () => {
    const onRate = vi.fn();
    render(<StarRating value={2} onRate={onRate} />);
    screen.getByLabelText("2 stars").focus();
    await userEvent.keyboard("{ArrowRight}");
    expect(onRate).toHaveBeenLastCalledWith(3);
  });

  it("does nothing while disabled", async () => {
    const onRate = vi.fn();
    render(<StarRating value={null} onRate={onRate} disabled />);
    await userEvent.click(screen.getByLabelText("5 stars"));
    expect(onRate).not.toHaveBeenCalled();
  });
});
