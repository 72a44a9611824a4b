#!/bin/sh
# Container entry point. Before `movie-genie serve`: migrate the database and load the processed tables into it
# (a no-op in well under a second when they are already loaded), so a fresh PostgreSQL volume serves at once.
# Any other command (`movie-genie train`, a shell...) runs as given.
set -eu

case "${1:-} ${2:-}" in
  "movie-genie serve")
    movie-genie db upgrade
    if ! movie-genie db load; then
      echo "movie-genie-entrypoint: \`movie-genie db load\` failed (see above). When data/processed is missing," \
        "build the image with --build-arg TRAIN_AT_BUILD=1, or run \`make pipeline\` on the host and mount" \
        "./data and ./artifacts (deploy/README.md)." >&2
      exit 1
    fi
    ;;
esac
exec "$@"
