import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { Poster } from "./Poster";

describe("Poster", () => {
  it("uses the TMDB image when the film has a poster path", () => {
    render(<Poster title="Heat" year={1995} posterPath="/heat.jpg" />);
    expect(screen.getByRole("img", { name: "Poster of Heat" })).toHaveAttribute(
      "src",
      "https://image.tmdb.org/t/p/w342/heat.jpg",
    );
  });

  it("falls back to generated art when the image fails to load (offline)", () => {
    render(<Poster title="Heat" year={1995} posterPath="/heat.jpg" />);
    fireEvent.error(screen.getByRole("img", { name: "Poster of Heat" }));
    expect(screen.getByTestId("poster-placeholder")).toHaveTextContent("Heat");
    expect(document.querySelector("img")).toBeNull();
  });

  it("draws generated art when there is no poster path", () => {
    render(<Poster title="Heat" posterPath={null} />);
    expect(screen.getByTestId("poster-placeholder")).toHaveAttribute("aria-label", "Poster of Heat");
  });
});
