"""Classification datasets: offline, image-folder and torchvision ones (registered by ``..plugin``)."""
