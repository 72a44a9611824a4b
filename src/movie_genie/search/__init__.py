"""Search: sentence encoder, vector index, lexical index, fusion, filters, suggestions.

Pipeline (each step a CLI stage; docs/search.md, docs/pipeline.md):
- `movie-genie embed`  documents.build_documents -> encoder (torch MiniLM) -> artifacts/embeddings/embeddings.npz
                       (movie_id int64 [n], embedding float32 [n, 384] unit length, text_hash str [n]);
- `movie-genie index`  embeddings + documents -> artifacts/index/ (FAISS, BM25, catalogue with rating counts,
                       ONNX encoder + tokenizer, manifest.json with the `search` config it was built with);
- at run time          engine.SearchEngine.load(index_dir) once per process, then `search(...)` / `suggest(...)`.

Errors: errors.SearchInputError (bad query, mode, k or filter: a 400) and errors.IndexMissingError (run a stage).
This package never imports movie_genie.models: personalisation takes affinity scores as an argument.
"""
