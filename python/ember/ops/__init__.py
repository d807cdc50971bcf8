"""Ops by family. Each module defines functions and attaches the Tensor methods it owns."""
