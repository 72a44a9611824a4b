"""The generators of the docs site, one module per page family; docs/gen_pages.py runs them at build time."""
