import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";

import { SearchBox, type SuggestionOption } from "./SearchBox";

const OPTIONS: SuggestionOption[] = [
  { id: 1, label: "Toy Story", detail: "1995" },
  { id: 2, label: "Toy Story 2", detail: "1999" },
  { id: 3, label: "Toys", detail: "1992" },
];

function Harness({ onSubmit, onPick }: { onSubmit: (v: string) => void; onPick: (o: SuggestionOption) => void }) {
  const [value, setValue] = useState("");
  return <SearchBox value={value} onChange={setValue} onSubmit={onSubmit} onPick={onPick} suggestions={value ? OPTIONS : []} />;
}

function setup() {
  const onSubmit = vi.fn();
  const onPick = vi.fn();
  render(<Harness onSubmit={onSubmit} onPick={onPick} />);
  return { onSubmit, onPick, input: screen.getByRole("combobox") };
}

describe("SearchBox keyboard navigation", () => {
  it("opens suggestions while typing and moves through them with the arrows, wrapping", async () => {
    const { input } = setup();
    await userEvent.type(input, "toy");
    expect(input).toHaveAttribute("aria-expanded", "true");
    await userEvent.keyboard("{ArrowDown}");
    expect(screen.getByRole("option", { name: "Toy Story (1995)" })).toHaveAttribute("aria-selected", "true");
    await userEvent.keyboard("{ArrowDown}{ArrowDown}{ArrowDown}");
    // past the last one it wraps to the first
    expect(screen.getByRole("option", { name: "Toy Story (1995)" })).toHaveAttribute("aria-selected", "true");
    await userEvent.keyboard("{ArrowUp}");
    expect(screen.getByRole("option", { name: "Toys (1992)" })).toHaveAttribute("aria-selected", "true");
    expect(input.getAttribute("aria-activedescendant")).toBe(screen.getByRole("option", { name: "Toys (1992)" }).id);
  });

  it("Enter picks the highlighted suggestion", async () => {
    const { input, onPick, onSubmit } = setup();
    await userEvent.type(input, "toy{ArrowDown}{ArrowDown}{Enter}");
    expect(onPick).toHaveBeenCalledWith(OPTIONS[1]);
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("Enter with nothing highlighted submits the text", async () => {
    const { input, onPick, onSubmit } = setup();
    await userEvent.type(input, "robots{Enter}");
    expect(onSubmit).toHaveBeenCalledWith("robots");
    expect(onPick).not.toHaveBeenCalled();
  });

  it("Escape closes the list, then clears the field", async () => {
    const { input } = setup();
    await userEvent.type(input, "toy{ArrowDown}{Escape}");
    expect(input).toHaveAttribute("aria-expanded", "false");
    expect(input).toHaveValue("toy");
    await userEvent.keyboard("{Escape}");
    expect(input).toHaveValue("");
  });

  it("a mouse pick on a suggestion works", async () => {
    const { input, onPick } = setup();
    await userEvent.type(input, "toy");
    await userEvent.click(screen.getByRole("option", { name: "Toys (1992)" }));
    expect(onPick).toHaveBeenCalledWith(OPTIONS[2]);
  });
});
