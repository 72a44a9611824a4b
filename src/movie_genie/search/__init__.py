"""Search: sentence encoder, vector index, lexical index, fusion, filters, suggestions."""
