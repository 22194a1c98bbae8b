"""Matrix calculus: derivatives of expressions over scalars, vectors and matrices, in matrix notation."""
