"""Weights from elsewhere: a Hugging Face ViViT checkpoint, or an image ViT to start from.

Importers read tensors and JSON only (safetensors, or torch.load with weights_only), so
they run no code from the checkpoint, and need neither transformers nor timm. They import
`models` only, nothing of data or training.
"""
