"""Reusable building blocks of the ViViT models; the variants assemble them."""
