"""Presenters: frozen results of the compute layer to response bodies. No validation and no computation here: each
function only arranges numbers and texts already computed into the fields of the contract, and encodes them."""
