"""Background removal study for fashion image classification and segmentation, as a DVC pipeline."""

__version__ = "0.1.0"
