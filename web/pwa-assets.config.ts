import { defineConfig, minimal2023Preset } from "@vite-pwa/assets-generator/config";

// The installable app's icons, drawn from the favicon (the brand's violet tile with its "M"): `npm run icons`
// writes the PNGs next to it in public/, where they are committed as sources. Maskable and Apple icons sit on the
// brand colour, because Android crops maskable icons to its own shape and iOS fills transparency with black.
const brand = { background: "#7c3aed" };

export default defineConfig({
  headLinkOptions: { preset: "2023" },
  preset: {
    ...minimal2023Preset,
    maskable: { ...minimal2023Preset.maskable, resizeOptions: brand },
    apple: { ...minimal2023Preset.apple, resizeOptions: brand },
  },
  images: ["public/favicon.svg"],
});
