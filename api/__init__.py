"""The HTTP service: FastAPI app over the question answerer, plus the web page at ``/``."""
