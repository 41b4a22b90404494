"""Independent implementations the engines are checked against (not part of evalkit)."""
