"""HTTP/1.1 protocols: one shared connection and request cycle, with h11 and httptools adapters."""
