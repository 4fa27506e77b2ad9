"""vivit: Video Vision Transformers (Arnab et al., 2021) for video and volumetric classification."""

__version__ = "0.1.0"
