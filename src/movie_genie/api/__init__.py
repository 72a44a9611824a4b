"""HTTP API: create_app(), one blueprint per resource, schemas, and services holding loaded artefacts."""
